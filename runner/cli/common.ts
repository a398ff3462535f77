// Shared by the `mvm runner` handlers: open the device the arguments name, print results.
import { MvmError } from '../../shared/errors.js';
import type { DeviceArgs } from '../command.js';
import { createDriver } from '../drivers/registry.js';
import type { Driver } from '../drivers/types.js';
import { selectDevice } from '../testbed.js';

/** `--option key=value` pairs; values that parse as JSON (numbers, arrays, booleans) are taken as such. */
export function parseOptionPairs(pairs: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new MvmError('USAGE', `--option ${JSON.stringify(pair)}: expected KEY=VALUE`, { hint: 'e.g. --option request_timeout_ms=2000' });
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    try {
      out[key] = JSON.parse(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}

export function openDriver(args: DeviceArgs): Driver {
  const { device } = selectDevice({
    testbed: args.testbed,
    device: args.device,
    driver: args.driver,
    address: args.address,
    options: parseOptionPairs(args.option),
  });
  return createDriver(device);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

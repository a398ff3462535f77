// Shared by the axeos driver tests: a simulator torn down with the test, a driver for it, and a
// check that an operation fails with a typed, hinted DriverError.
import type { Test } from 'tap';
import { AxeosDriver } from '../../runner/drivers/axeos/driver.js';
import { DriverError } from '../../runner/drivers/errors.js';
import type { DeviceSpec } from '../../runner/drivers/types.js';
import { startAxeosSim, type AxeosSim, type AxeosSimOptions } from '../../sim/axeos/index.js';

export async function sim(t: Test, opts: AxeosSimOptions = {}): Promise<AxeosSim> {
  const s = await startAxeosSim({ rebootDelayMs: 50, bootMs: 300, ...opts });
  t.teardown(() => s.close());
  return s;
}

export function driverFor(s: AxeosSim, options: Record<string, unknown> = {}): AxeosDriver {
  const device: DeviceSpec = {
    name: 'gamma',
    driver: 'axeos',
    address: s.url,
    hardware: '601',
    options: { request_timeout_ms: 3000, ...options },
  };
  return new AxeosDriver(device);
}

export async function rejects(
  t: Test,
  p: Promise<unknown>,
  reason: DriverError['reason'],
  re?: RegExp,
): Promise<DriverError> {
  try {
    await p;
  } catch (err) {
    t.type(err, DriverError, 'a DriverError');
    t.equal((err as DriverError).reason, reason, `reason ${reason}: ${(err as Error).message}`);
    if (re) t.match((err as Error).message, re);
    t.ok((err as DriverError).hint, 'with a hint');
    return err as DriverError;
  }
  t.fail(`expected a ${reason} failure`);
  throw new Error('unreachable');
}

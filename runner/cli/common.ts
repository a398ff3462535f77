// Shared by the `mvm runner` handlers: open the device the arguments name, print results.
import { MvmError } from '../../shared/errors.js';
import type { DeviceArgs } from '../command.js';
import { createDriver } from '../drivers/registry.js';
import type { DeviceSpec, Driver } from '../drivers/types.js';
import { reportIfInfra, type InfraCommand } from '../infra-report.js';
import { holdTestbedLock } from '../lock.js';
import { rootLogger } from '../../shared/log.js';
import { findDevice, loadTestbed, selectDevice, type Testbed } from '../testbed.js';

/** `--option key=value` pairs; values that parse as JSON (numbers, arrays, booleans) are taken as such. */
export function parseOptionPairs(pairs: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new MvmError('USAGE', `--option ${JSON.stringify(pair)}: expected KEY=VALUE`, {
        hint: 'e.g. --option request_timeout_ms=2000',
      });
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

export interface OpenedDevice {
  driver: Driver;
  /** Set when the device came from a testbed description (not --driver/--address). */
  testbedFile?: string;
}

/**
 * Opens the device; `lockFor` names a command that changes it, which must hold the testbed's
 * lock (runner/lock.ts) — held from here until the process exits.
 */
export async function openDevice(args: DeviceArgs, lockFor?: string): Promise<OpenedDevice> {
  const { device, testbed, testbedFile } = selectDevice({
    testbed: args.testbed,
    device: args.device,
    driver: args.driver,
    address: args.address,
    options: parseOptionPairs(args.option),
  });
  if (lockFor)
    await holdTestbedLock({
      command: lockFor,
      testbed: testbed?.testbed,
      devices: [device],
      credential: testbed?.lockCredential,
      dir: testbed?.lockDir,
      waitMs: testbed?.lockWaitMs,
      ignoreLock: args['ignore-lock'],
      log: rootLogger(),
    });
  return { driver: createDriver(device), testbedFile };
}

/** Runs a command's device work; an infrastructure failure is recorded beside the testbed description. */
export async function reportingInfra<T>(
  command: InfraCommand,
  opened: OpenedDevice,
  fn: (driver: Driver) => Promise<T>,
): Promise<T> {
  try {
    return await fn(opened.driver);
  } catch (err) {
    reportIfInfra(opened.testbedFile, command, opened.driver.device.name, err);
    throw err;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/**
 * The testbed (and optionally one device of it) for commands that act on a whole testbed. Its
 * callers (the factory) tell "the testbed is unwell" (exit 1) from "you called me wrong" (exit 2),
 * so a description that cannot be read or names no such device is a usage error here.
 */
export async function openTestbed(
  args: { testbed?: string; device?: string; 'ignore-lock'?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  lockFor?: string,
): Promise<{ testbed: Testbed; devices: DeviceSpec[]; file: string }> {
  const file = args.testbed ?? env.MVM_TESTBED;
  if (!file) {
    throw new MvmError('USAGE', 'no testbed: give --testbed FILE or set MVM_TESTBED', {
      hint: 'the factory passes the testbed description it wrote; on a bench write a testbed.json (doc/runner.md)',
    });
  }
  let opened: { testbed: Testbed; devices: DeviceSpec[]; file: string };
  try {
    const testbed = loadTestbed(file);
    opened = {
      testbed,
      devices: args.device === undefined ? testbed.devices : [findDevice(testbed, args.device)],
      file,
    };
  } catch (err) {
    if (err instanceof MvmError) throw new MvmError('USAGE', err.message, { hint: err.hint, cause: err });
    throw err;
  }
  if (lockFor) await lockTestbed(lockFor, opened.testbed, args['ignore-lock'], env);
  return opened;
}

/** The lock check and hold (until the process exits) of a command acting on a whole testbed description. */
export async function lockTestbed(
  command: string,
  testbed: Testbed,
  ignoreLock: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  await holdTestbedLock({
    command,
    testbed: testbed.testbed,
    devices: testbed.devices,
    credential: testbed.lockCredential,
    dir: testbed.lockDir,
    waitMs: testbed.lockWaitMs,
    ignoreLock,
    env,
    log: rootLogger(),
  });
}

/** Human lines of a per-device report: the verdict, then each device and its items. */
export function deviceReportLines(
  title: string,
  devices: Array<{
    device: string;
    ok: boolean;
    items: Array<{ label: string; ok: boolean; message: string }>;
    empty: string;
  }>,
): string[] {
  const lines = [title];
  for (const d of devices) {
    lines.push(`  ${d.device}: ${d.ok ? 'ok' : 'FAILED'}`);
    if (d.items.length === 0) lines.push(`    ${d.empty}`);
    for (const i of d.items) lines.push(`    ${i.ok ? 'ok  ' : 'FAIL'} ${i.label}: ${i.message}`);
  }
  return lines;
}

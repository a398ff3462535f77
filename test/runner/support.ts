// Shared by the runner tests: a testbed description on disk, its usual device, a free loopback UDP
// port, and a check that a driver operation fails with a typed DriverError.
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { DriverError } from '../../runner/drivers/errors.js';

/** Writes `<dir>/testbed.json` (version 1, testbed "bench-1" unless `doc` says otherwise); returns its path. */
export function writeTestbed(dir: string, doc: Record<string, unknown>): string {
  const file = join(dir, 'testbed.json');
  writeFileSync(file, JSON.stringify({ version: 1, testbed: 'bench-1', ...doc }));
  return file;
}

/** A Bitaxe Gamma (board 601) on v2.15.0 named gamma at `address`, as a testbed description lists it. */
export function gammaDevice(address: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'gamma',
    driver: 'axeos',
    address,
    hardware: '601',
    software: 'v2.15.0',
    attributes: [],
    options: { request_timeout_ms: 2000 },
    ...over,
  };
}

/** A UDP port free right now on loopback. */
export async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Checks that `p` fails with a DriverError of `reason` (and a message matching `re`). */
export async function rejectsWith(
  t: Test,
  p: Promise<unknown>,
  reason: DriverError['reason'],
  re?: RegExp,
): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, DriverError, `a DriverError: ${(err as Error)?.message}`);
  t.equal((err as DriverError)?.reason, reason);
  if (re) t.match((err as Error).message, re);
}

// Before a test's script and checks: bring every assigned device whose spec names `software` to
// that version — the spec's `image` when given, else the firmware library's image — and record
// each device's step. A device already on the version is not flashed.
import { isAbortError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { describeForDevice, DriverError, type DriverFailure } from '../drivers/errors.js';
import type { Driver } from '../drivers/types.js';
import { ensureFirmware } from '../firmware/ensure.js';
import type { Assignment } from './assign.js';
import { flashLines } from './progress-lines.js';

export interface PreparationStep {
  /** Spec device name, and the testbed device that plays it. */
  spec: string;
  device: string;
  from: string | null;
  to: string;
  ok: boolean;
  message: string;
  durationMs: number;
  /** The image flashed (or that failed to flash). */
  image?: string;
  /** The driver's reason when the device failed (unreachable, verify_failed, …). */
  reason?: DriverFailure;
}

export interface PrepareOptions {
  firmwareDir?: string;
  signal?: AbortSignal;
  log?: Logger;
  /** How often the upload and the reboot wait are logged (default 10 s). */
  progressEveryMs?: number;
}

async function prepareOne(a: Assignment, driver: Driver, opts: PrepareOptions): Promise<PreparationStep> {
  const started = Date.now();
  const want = a.spec.software!;
  const base = { spec: a.spec.name, device: a.device.name, to: want };
  let from: string | null = null;
  const say = (message: string) => opts.log?.info({ device: a.device.name }, message);
  const progress = flashLines(say, { everyMs: opts.progressEveryMs, phaseLine: (e) => e.message });
  try {
    from = (await driver.info({ signal: opts.signal })).firmwareVersion;
    const r = await ensureFirmware({
      driver,
      from,
      version: want,
      image: a.spec.image,
      firmwareDir: opts.firmwareDir,
      purpose: `the test definition (device ${a.spec.name})`,
      signal: opts.signal,
      onProgress: (e) => progress.event(e),
    }).finally(() => progress.stop());
    if (r.flashed) opts.log?.info({ device: a.device.name, from, to: r.to }, 'flashed the software the test asks for');
    return {
      ...base,
      from,
      to: r.to,
      ok: true,
      message: r.message,
      durationMs: Date.now() - started,
      ...(r.image ? { image: r.image } : {}),
    };
  } catch (err) {
    if (isAbortError(err)) throw err;
    return {
      ...base,
      from,
      ok: false,
      message: describeForDevice(err, a.device.name),
      durationMs: Date.now() - started,
      ...(err instanceof DriverError ? { reason: err.reason } : {}),
    };
  }
}

/** One step per assigned device whose spec names software, in assignment order. */
export async function prepareDevices(
  assignments: Assignment[],
  drivers: Map<string, Driver>,
  opts: PrepareOptions,
): Promise<PreparationStep[]> {
  const wanted = assignments.filter((a) => a.spec.software !== undefined);
  // Devices are flashed in parallel: each has its own bounds, and a bench of several waits once.
  return Promise.all(wanted.map((a) => prepareOne(a, drivers.get(a.spec.name)!, opts)));
}

// A restart that returns when the device answers again (its uptime went back, or it was seen
// down and is up), or fails at a deadline: `mvm runner control restart --wait`, restore, and the
// fleet's restart.
import { DriverError } from './drivers/errors.js';
import type { Driver } from './drivers/types.js';
import { surviveRestart } from './device-tests/checks.js';

export interface RestartWaitOptions {
  signal?: AbortSignal;
  /** How long the device may take to answer again, ms (default: device option reboot_timeout_ms, else 180 s). */
  timeoutMs?: number;
  /** Wait between polls, ms (default: device option poll_interval_ms, else 5 s; the firmware dislikes faster). */
  pollMs?: number;
  /** Told every `progressEveryMs` (default 10 s) while the device is away: elapsed time and its state. */
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
}

export interface RestartWaitResult {
  message: string;
  backAfterMs: number;
}

const optionMs = (driver: Driver, key: string, dflt: number) => {
  const v = driver.device.options?.[key];
  return typeof v === 'number' && v > 0 ? v : dflt;
};

/** Restarts the device and waits until it answers again; DriverError('timeout') past the deadline. */
export async function restartAndWait(driver: Driver, opts: RestartWaitOptions = {}): Promise<RestartWaitResult> {
  const timeoutMs = opts.timeoutMs ?? optionMs(driver, 'reboot_timeout_ms', 180_000);
  const started = Date.now();
  const verdict = await surviveRestart(
    driver,
    { type: 'survives_restart', name: 'restart', devices: [], timeoutMs, requireHashing: false },
    {
      pollMs: opts.pollMs ?? optionMs(driver, 'poll_interval_ms', 5000),
      signal: opts.signal,
      onProgress: opts.onProgress,
      progressEveryMs: opts.progressEveryMs,
    },
  );
  if (!verdict.ok) {
    if (/^could not restart/.test(verdict.message))
      throw new DriverError(driver.device.name, verdict.reason ?? 'refused', `restart: ${verdict.message}`);
    throw new DriverError(
      driver.device.name,
      'timeout',
      `restart: not back within ${Math.round(timeoutMs / 1000)} s (${verdict.message})`,
      {
        hint: 'check the device by hand (power, network), or allow longer with --timeout',
      },
    );
  }
  return { message: `restarted: ${verdict.message}`, backAfterMs: Date.now() - started };
}

// Declarative checks: window checks judge telemetry sampled over a window; survives_restart
// restarts the device and waits for it to come back (and hash again). Each result says what was
// measured, so a failure explains itself.
import { describeError, isAbortError } from '../../shared/errors.js';
import { sleep } from '../../shared/sleep.js';
import { DriverError, type DriverFailure } from '../drivers/errors.js';
import type { Driver, Telemetry } from '../drivers/types.js';
import { elapsedTicker, PROGRESS_EVERY_MS } from './progress-lines.js';
import type { Check } from './spec.js';

export interface CheckResult {
  name: string;
  type: Check['type'];
  /** Spec device name, and the testbed device that played it. */
  device: string;
  testbedDevice: string;
  ok: boolean;
  message: string;
  measured: Record<string, unknown>;
  durationMs: number;
  /** Set when the check failed because the device failed (stopped answering): the driver's reason. */
  reason?: DriverFailure;
}

export type Verdict = { ok: boolean; message: string; measured: Record<string, unknown>; reason?: DriverFailure };

const failureOf = (err: unknown): DriverFailure | undefined => (err instanceof DriverError ? err.reason : undefined);

export interface Sample {
  at: number;
  telemetry?: Telemetry;
  error?: string;
  reason?: DriverFailure;
}

export interface SampleOptions {
  windowMs: number;
  pollMs: number;
  signal?: AbortSignal;
  /** Per-sample timeout. */
  sampleTimeoutMs?: number;
  /** Called after each sample: its number, the number the window should take, the sample. */
  onSample?: (n: number, of: number, sample: Sample) => void;
}

/** Samples one driver every pollMs for windowMs (first sample at once, last at the window's end). */
export async function sampleWindow(driver: Driver, opts: SampleOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  const start = Date.now();
  const expected = Math.ceil(opts.windowMs / Math.max(opts.pollMs, 1)) + 1;
  for (;;) {
    const at = Date.now();
    try {
      const telemetry = await driver.telemetry({
        signal: opts.signal,
        timeoutMs: opts.sampleTimeoutMs ?? Math.max(2000, Math.min(opts.pollMs * 2, 15_000)),
      });
      samples.push({ at, telemetry });
    } catch (err) {
      if (isAbortError(err) || opts.signal?.aborted) throw err;
      samples.push({ at, error: describeError(err), reason: failureOf(err) });
    }
    opts.onSample?.(samples.length, Math.max(expected, samples.length), samples[samples.length - 1]);
    const elapsed = Date.now() - start;
    if (elapsed >= opts.windowMs) return samples;
    await sleep(Math.min(opts.pollMs, opts.windowMs - elapsed), opts.signal);
  }
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Judges a window check on one device's samples (those inside the check's own window). */
export function judgeWindow(check: Exclude<Check, { type: 'survives_restart' }>, samples: Sample[]): Verdict {
  const start = samples[0]?.at ?? 0;
  const inWindow = samples.filter((s) => s.at - start <= check.windowMs + 50);
  const good = inWindow.filter((s) => s.telemetry).map((s) => s.telemetry!);
  const errors = inWindow.filter((s) => s.error).map((s) => s.error!);
  const measured: Record<string, unknown> = { samples: inWindow.length, failedSamples: errors.length };
  if (good.length === 0) {
    const reason = inWindow.filter((s) => s.error).pop()?.reason;
    return {
      ok: false,
      message: `no telemetry in the window${errors.length ? `: ${errors[errors.length - 1]}` : ''}`,
      measured,
      ...(reason ? { reason } : {}),
    };
  }
  switch (check.type) {
    case 'hashrate': {
      const hs = good.map((t) => t.hashrateGhs).filter((x): x is number => x !== null);
      const exp = good.map((t) => t.expectedHashrateGhs).filter((x): x is number => x !== null);
      if (hs.length === 0) return { ok: false, message: 'the device reported no hashrate', measured };
      const expected = check.expectedGhs ?? (exp.length > 0 ? mean(exp) : undefined);
      const avg = mean(hs);
      Object.assign(measured, {
        meanHashrateGhs: round(avg),
        expectedGhs: expected === undefined ? null : round(expected),
      });
      if (expected === undefined || expected <= 0) {
        return {
          ok: false,
          message: 'the expected hashrate is unknown for this device: give expected_ghs in the check',
          measured,
        };
      }
      const pct = (avg / expected) * 100;
      measured.percent = round(pct, 1);
      const ok = pct >= check.minPercent;
      return {
        ok,
        message: `mean ${round(avg)} GH/s is ${round(pct, 1)} % of expected ${round(expected)} GH/s (${ok ? '≥' : '<'} ${check.minPercent} %) over ${good.length} samples`,
        measured,
      };
    }
    case 'temperature': {
      const temps = good.flatMap((t) =>
        check.sensor
          ? t.temperatures[check.sensor] === undefined
            ? []
            : [t.temperatures[check.sensor]]
          : Object.values(t.temperatures),
      );
      if (temps.length === 0) return { ok: false, message: `no ${check.sensor ?? 'temperature'} readings`, measured };
      const max = Math.max(...temps);
      measured.maxC = max;
      const ok = max <= check.max;
      return {
        ok,
        message: `highest ${check.sensor ?? 'temperature'} ${max} °C ${ok ? '≤' : '>'} ${check.max} °C`,
        measured,
      };
    }
    case 'shares_increase': {
      const acc = good.map((t) => t.sharesAccepted).filter((x): x is number => x !== null);
      if (acc.length < 2)
        return {
          ok: false,
          message: 'needs two share readings: make the window longer than the poll interval',
          measured,
        };
      const inc = acc[acc.length - 1] - acc[0];
      Object.assign(measured, { first: acc[0], last: acc[acc.length - 1], increase: inc });
      const ok = inc >= check.min;
      return {
        ok,
        message: `accepted shares went ${acc[0]} → ${acc[acc.length - 1]} (+${inc}, needs +${check.min})`,
        measured,
      };
    }
    case 'rejected_ratio': {
      const last = [...good].reverse().find((t) => t.sharesAccepted !== null && t.sharesRejected !== null);
      if (!last) return { ok: false, message: 'the device reported no share counts', measured };
      const total = last.sharesAccepted! + last.sharesRejected!;
      const ratio = total === 0 ? 0 : last.sharesRejected! / total;
      Object.assign(measured, { accepted: last.sharesAccepted, rejected: last.sharesRejected, ratio: round(ratio, 4) });
      const ok = ratio <= check.max;
      return {
        ok,
        message: `rejected ${last.sharesRejected} of ${total} shares (${round(ratio * 100, 2)} %, limit ${round(check.max * 100, 2)} %)`,
        measured,
      };
    }
  }
}

export interface RestartWatch {
  pollMs: number;
  signal?: AbortSignal;
  /** Told every `progressEveryMs` while waiting for the device: elapsed time and the latest state. */
  onProgress?: (line: string) => void;
  progressEveryMs?: number;
}

/**
 * Restarts the device and waits until it answers with a fresh uptime (and hashes, if required),
 * saying how the wait goes through `onProgress` so a log is never silent for long.
 */
export async function surviveRestart(
  driver: Driver,
  check: Extract<Check, { type: 'survives_restart' }>,
  opts: RestartWatch,
): Promise<Verdict> {
  const started = Date.now();
  const sampleTimeout = Math.max(2000, Math.min(opts.pollMs * 2, 15_000));
  let before: Telemetry;
  try {
    before = await driver.telemetry({ signal: opts.signal, timeoutMs: sampleTimeout });
    await driver.control({ op: 'restart' }, { signal: opts.signal });
  } catch (err) {
    if (isAbortError(err)) throw err;
    const reason = failureOf(err);
    return {
      ok: false,
      message: `could not restart: ${describeError(err)}`,
      measured: {},
      ...(reason ? { reason } : {}),
    };
  }
  const deadline = started + check.timeoutMs;
  let sawDown = false;
  let rebooted: Telemetry | undefined;
  let last: string | undefined;
  /** Why the latest reading failed; cleared by an answer. */
  let down: DriverFailure | undefined;
  const ticker = opts.onProgress
    ? elapsedTicker(
        opts.onProgress,
        `waiting for ${driver.device.name} to come back after the restart${check.requireHashing ? ' and hash' : ''} (up to ${Math.round(check.timeoutMs / 1000)} s)`,
        opts.progressEveryMs ?? PROGRESS_EVERY_MS,
        // The reason alone: the full error (with its hint) is in the verdict if it stays down.
        () => (down ? `not answering: ${down}` : (last ?? 'no reading yet')),
      )
    : undefined;
  try {
    return await waitBack();
  } finally {
    ticker?.stop();
  }

  async function waitBack(): Promise<Verdict> {
    while (Date.now() < deadline) {
      await sleep(opts.pollMs, opts.signal);
      try {
        const t = await driver.telemetry({ signal: opts.signal, timeoutMs: sampleTimeout });
        down = undefined;
        // A reboot shows as an uptime that went backwards, or (uptime unknown) as a gap in answers.
        const uptimeReset = t.uptimeS !== null && before.uptimeS !== null && t.uptimeS < before.uptimeS;
        if (!rebooted && (uptimeReset || sawDown)) rebooted = t;
        if (rebooted && (!check.requireHashing || (t.hashrateGhs ?? 0) > 0)) {
          return {
            ok: true,
            message: `back after ${Date.now() - started} ms (uptime ${t.uptimeS ?? '?'} s${check.requireHashing ? `, hashing ${round(t.hashrateGhs ?? 0)} GH/s` : ''})`,
            measured: { backAfterMs: Date.now() - started, uptimeS: t.uptimeS, hashrateGhs: t.hashrateGhs, sawDown },
          };
        }
        last = rebooted
          ? `up again (uptime ${t.uptimeS} s) but not hashing yet`
          : `still up with uptime ${t.uptimeS} s: no reboot seen`;
      } catch (err) {
        if (isAbortError(err)) throw err;
        sawDown = true;
        down = failureOf(err) ?? 'unreachable';
        last = `not answering: ${describeError(err)}`;
      }
    }
    return {
      ok: false,
      message: `did not come back within ${check.timeoutMs} ms after the restart (${last ?? 'no answer'})`,
      measured: { sawDown, timeoutMs: check.timeoutMs },
      ...(down ? { reason: down } : {}),
    };
  }
}

// No silences in a job log: during a long step the runner says, every so often, where it is — a
// sample line per poll of a check window ([3/13]), the upload's rate and ETA during a flash, the
// time spent waiting for the device to come back after it.
import type { Sample } from './checks.js';

/** At most one line per this long (and one per poll when polls are further apart). */
export const PROGRESS_EVERY_MS = 10_000;

/** A throttle: true at the first call, then once `everyMs` has passed since the last true. */
export function every(everyMs: number, now: () => number = Date.now): (force?: boolean) => boolean {
  let last = -Infinity;
  return (force = false) => {
    const t = now();
    if (!force && t - last < everyMs) return false;
    last = t;
    return true;
  };
}

/** "1074 GH/s, 61.2 °C, shares 12/0" or the error, for one sample. */
export function sampleLine(s: Sample): string {
  if (!s.telemetry) return `no reading: ${s.error ?? 'unknown error'}`;
  const t = s.telemetry;
  const parts: string[] = [];
  if (t.hashrateGhs !== null) parts.push(`${Math.round(t.hashrateGhs * 10) / 10} GH/s`);
  const temps = Object.values(t.temperatures);
  if (temps.length) parts.push(`${Math.max(...temps)} °C`);
  if (t.sharesAccepted !== null) parts.push(`shares ${t.sharesAccepted}/${t.sharesRejected ?? 0}`);
  return parts.length ? parts.join(', ') : 'online';
}

/** Lines for an upload: percent, KiB, rate and ETA, at most every `everyMs` (and at 100 %). */
export function uploadMeter(
  say: (line: string) => void,
  opts: { everyMs?: number; now?: () => number } = {},
): (sent: number, total: number) => void {
  const now = opts.now ?? Date.now;
  const due = every(opts.everyMs ?? PROGRESS_EVERY_MS, now);
  const started = now();
  return (sent, total) => {
    const done = sent >= total;
    if (!due(done)) return;
    const secs = Math.max((now() - started) / 1000, 0.001);
    const rate = sent / secs;
    const pct = total > 0 ? Math.floor((sent / total) * 100) : 100;
    const eta = done ? 'done' : rate > 0 ? `ETA ${Math.ceil((total - sent) / rate)} s` : 'ETA unknown';
    say(
      `upload ${pct}% (${Math.round(sent / 1024)}/${Math.round(total / 1024)} KiB, ${Math.round(rate / 1024)} KiB/s, ${eta})`,
    );
  };
}

/** Says how long a wait has lasted every `everyMs` until stopped. */
export function elapsedTicker(
  say: (line: string) => void,
  what: string,
  everyMs = PROGRESS_EVERY_MS,
): { stop(): void } {
  const started = Date.now();
  const timer = setInterval(() => say(`${what}: ${Math.round((Date.now() - started) / 1000)} s`), everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

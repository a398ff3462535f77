// No silences in a job log: during a long step the runner says, every so often, where it is — a
// sample line per poll of a check window ([3/13]), the upload's rate and ETA during a flash, the
// time spent waiting for the device to come back after it.
import type { ProgressEvent } from '../drivers/types.js';
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

/**
 * An upload's state as text — "48% (488/1000 KiB, 44 KiB/s, ETA 12 s)" — with the mean rate over
 * `elapsedMs`; rate and ETA are left out until a second has passed (too few bytes to say), unless
 * the upload is done.
 */
export function uploadStatus(sent: number, total: number, elapsedMs: number): string {
  const done = sent >= total;
  const pct = total > 0 ? Math.floor((sent / total) * 100) : 100;
  const kib = `${Math.round(sent / 1024)}/${Math.round(total / 1024)} KiB`;
  if (elapsedMs < 1000 && !done) return `${pct}% (${kib})`;
  const rate = sent / (Math.max(elapsedMs, 1) / 1000);
  const eta = done ? 'done' : rate > 0 ? `ETA ${Math.ceil((total - sent) / rate)} s` : 'ETA unknown';
  return `${pct}% (${kib}, ${Math.round(rate / 1024)} KiB/s, ${eta})`;
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
    if (due(sent >= total)) say(`upload ${uploadStatus(sent, total, now() - started)}`);
  };
}

/**
 * Says how long a wait has lasted every `everyMs` until stopped: "what: 20 s", followed by
 * `detail()` (the latest state of what is awaited) when it has one.
 */
export function elapsedTicker(
  say: (line: string) => void,
  what: string,
  everyMs = PROGRESS_EVERY_MS,
  detail?: () => string | undefined,
): { stop(): void } {
  const started = Date.now();
  const timer = setInterval(() => {
    const d = detail?.();
    say(`${what}: ${Math.round((Date.now() - started) / 1000)} s${d ? ` (${d})` : ''}`);
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** What a flash waits for after an upload event or a phase; undefined when it waits for nothing long. */
export function flashWait(e: ProgressEvent): string | undefined {
  if (e.phase === 'upload') return e.sent >= e.total ? 'waiting for the device to take the image' : undefined;
  if (e.phase === 'reboot') return 'waiting for the device to come back';
  return undefined;
}

export interface FlashLines {
  event(e: ProgressEvent): void;
  /** Stops the elapsed-time lines (the flash ended, or failed). */
  stop(): void;
}

/**
 * A flash's progress as lines: the upload's rate and ETA, each phase, and while the device takes
 * the image or reboots the time waited — at most every `everyMs` (default 10 s).
 */
export function flashLines(
  say: (line: string) => void,
  opts: {
    everyMs?: number;
    now?: () => number;
    phaseLine?: (e: Exclude<ProgressEvent, { phase: 'upload' }>) => string;
  } = {},
): FlashLines {
  const everyMs = opts.everyMs ?? PROGRESS_EVERY_MS;
  const phaseLine = opts.phaseLine ?? ((e) => `${e.phase}: ${e.message}`);
  let upload: ((sent: number, total: number) => void) | undefined;
  let waiting: { stop(): void; what: string } | undefined;
  const stop = () => {
    waiting?.stop();
    waiting = undefined;
  };
  return {
    event(e) {
      const what = flashWait(e);
      if (waiting && waiting.what !== what) stop();
      if (e.phase === 'upload') {
        // The clock starts with the first bytes, not with the checks before them.
        upload ??= uploadMeter(say, { everyMs, now: opts.now });
        upload(e.sent, e.total);
      } else say(phaseLine(e));
      if (what && !waiting) waiting = { ...elapsedTicker(say, what, everyMs), what };
    },
    stop,
  };
}

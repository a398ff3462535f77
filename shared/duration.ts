// Durations as people write them in config and flags: "500ms", "30s", "5m", "1h30m", "2d".
import { MvmError } from './errors.js';

/** The longest duration a config may give: Node's timers hold at most 2^31-1 ms (24.8 days). */
export const MAX_DURATION_MS = 24 * 86_400_000;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Parses a duration into milliseconds; returns undefined when the text is not a duration. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text * 1000 : undefined;
  const s = text.trim();
  if (s === '') return undefined;
  if (/^\d+$/.test(s)) return Number(s) * 1000; // bare numbers are seconds
  PART_RE.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = PART_RE.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed = PART_RE.lastIndex;
  }
  return consumed === s.length ? Math.round(total) : undefined;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
}

/**
 * A duration given on the command line or in an MVM_* variable: a unit is required ("5" is refused
 * with "5 what?", since a person may mean seconds, minutes or hours). Returns milliseconds.
 */
export function parseDurationFlag(flag: string, text: string | number): number {
  try {
    return durationOfFlag(flag, text);
  } catch (err) {
    lastRefusal = err as MvmError;
    throw err;
  }
}

// yargs turns an error thrown by an option's coerce into a bare message: the entry point gets the
// whole error (with its hint and USAGE code) back from here.
let lastRefusal: MvmError | undefined;

/** The flag error behind `err` when yargs rethrew one of parseDurationFlag's as its message; else `err`. */
export function flagRefusalBehind(err: unknown): unknown {
  return lastRefusal && err instanceof Error && err.message === lastRefusal.message ? lastRefusal : err;
}

function durationOfFlag(flag: string, text: string | number): number {
  const s = String(text).trim();
  const shown = flag.startsWith('MVM_') ? `${flag}=${s}` : `--${flag} ${s}`;
  if (/^\d+(?:\.\d+)?$/.test(s)) {
    throw new MvmError('USAGE', `${shown}: ${s} what?`, {
      hint: `give a unit, e.g. ${s}s, ${s}m or ${s}h (units: ms, s, m, h, d)`,
    });
  }
  const ms = parseDuration(s);
  if (ms === undefined || ms <= 0) {
    throw new MvmError('USAGE', `${shown.slice(0, shown.length - s.length)}${JSON.stringify(s)} is not a duration`, {
      hint: 'write it like 500ms, 30s, 10m, 1h30m or 2d',
    });
  }
  return ms;
}

/**
 * Yargs options for duration flags (a unit required), as plain data so that no component needs
 * yargs' types: `msOption` yields milliseconds, `textOption` the value as typed, for an API that
 * parses it itself.
 */
export const durationFlag = {
  msOption: (flag: string, describe: string) =>
    ({ type: 'string', describe, coerce: (v: string | number): number => parseDurationFlag(flag, v) }) as const,
  textOption: (flag: string, describe: string) =>
    ({
      type: 'string',
      describe,
      coerce: (v: string | number): string => (parseDurationFlag(flag, v), String(v).trim()),
    }) as const,
};

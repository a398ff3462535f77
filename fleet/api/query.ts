// Query values people write: times ("2026-12-04T10:00:00Z", ms since epoch, or "24h" back from
// now) and steps ("1m", or ms). A bad one is a 400 naming the parameter.
import { parseDuration } from '../../shared/duration.js';
import { HttpError } from './errors.js';

export function parseAt(v: unknown, name: string, now: number): number {
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  if (/^\d{11,}$/.test(s)) return Number(s);
  const back = parseDuration(s.replace(/^-/, ''));
  if (back !== undefined && !/^\d+$/.test(s)) return now - back;
  const t = Date.parse(s);
  if (Number.isNaN(t))
    throw new HttpError(
      400,
      `${name} ${JSON.stringify(s)} is not a time`,
      'BadRequest',
      'give an ISO time (2026-12-04T10:00:00Z), ms since epoch, or a duration back from now ("24h")',
      `query.${name}`,
    );
  return t;
}

export function parseStep(v: unknown): number {
  if (typeof v === 'number') {
    if (v >= 1000) return v;
  } else {
    const s = String(v).trim();
    const ms = /^\d+$/.test(s) ? Number(s) : parseDuration(s);
    if (ms !== undefined && ms >= 1000) return ms;
  }
  throw new HttpError(
    400,
    `step ${JSON.stringify(v)} is not a step of at least 1s`,
    'BadRequest',
    'give a duration ("1m", "1h") or ms (60000)',
    'query.step',
  );
}

/** from/to/step of a history query; defaults: the last hour, step chosen by the store. */
export function historyRange(
  q: { from?: unknown; to?: unknown; step?: unknown },
  now = Date.now(),
): { from: number; to: number; stepMs?: number } {
  const to = q.to === undefined ? now : parseAt(q.to, 'to', now);
  const from = q.from === undefined ? to - 3_600_000 : parseAt(q.from, 'from', now);
  if (from >= to)
    throw new HttpError(
      400,
      `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`,
      'BadRequest',
      undefined,
      'query.from',
    );
  return { from, to, ...(q.step !== undefined ? { stepMs: parseStep(q.step) } : {}) };
}

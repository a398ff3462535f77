// Five-field cron expressions (minute hour day-of-month month day-of-week) matched in UK local
// time: `*`, numbers, ranges `a-b`, lists `a,b`, steps `*/n` and `a-b/n`; day-of-week 0–7 (0 and
// 7 are Sunday). When both day fields are restricted, either matching is enough (as cron does).
import { MvmError } from '../../shared/errors.js';
import { londonParts } from '../../shared/london-time.js';

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

export interface Cron {
  sets: Array<Set<number>>;
  domStar: boolean;
  dowStar: boolean;
}

function parseField(text: string, f: (typeof FIELDS)[number]): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m)
      throw new MvmError('USAGE', `cron ${f.name} field "${text}" is not valid`, { hint: 'use *, N, A-B, A,B or */N' });
    const lo = m[1] === '*' ? f.min : Number(m[2]);
    const hi = m[1] === '*' ? f.max : m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? f.max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < f.min || hi > f.max || lo > hi || step < 1) {
      throw new MvmError('USAGE', `cron ${f.name} "${part}" is out of range ${f.min}–${f.max}`, {
        hint: 'e.g. "0 16 * * 1-5": 16:00 on weekdays',
      });
    }
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

export function parseCron(expr: string): Cron {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new MvmError(
      'USAGE',
      `cron "${expr}" needs 5 fields (minute hour day-of-month month day-of-week), not ${parts.length}`,
      { hint: 'e.g. "30 23 * * *": every day at 23:30 UK time' },
    );
  }
  return { sets: parts.map((p, i) => parseField(p, FIELDS[i]!)), domStar: parts[2] === '*', dowStar: parts[4] === '*' };
}

export function cronMatches(c: Cron, ms: number): boolean {
  const p = londonParts(ms);
  const dow = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
  if (!c.sets[0]!.has(p.minute) || !c.sets[1]!.has(p.hour) || !c.sets[3]!.has(p.month)) return false;
  const dom = c.sets[2]!.has(p.day);
  const dw = c.sets[4]!.has(dow);
  if (c.domStar || c.dowStar) return dom && dw;
  return dom || dw;
}

/** The latest minute at or before `ms` and after `ms − withinMs` that matches, or null. */
export function lastMatch(c: Cron, ms: number, withinMs: number): number | null {
  const start = Math.floor(ms / 60_000) * 60_000;
  for (let m = start; m > ms - withinMs; m -= 60_000) if (cronMatches(c, m)) return m;
  return null;
}

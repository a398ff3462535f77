// UK civil time (Europe/London, GMT/BST) for half-hourly energy prices: a UK day has 48 slots, or
// 46/50 on the days the clocks change, and tariffs publish "tomorrow" by UK time.
const PARTS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

export const SLOT_MS = 30 * 60_000;

export interface LondonParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

export function londonParts(ms: number): LondonParts {
  const p: Record<string, number> = {};
  for (const { type, value } of PARTS.formatToParts(new Date(ms))) if (type !== 'literal') p[type] = Number(value);
  return { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute };
}

/** ms between UK local time and UTC at `ms` (0 in winter, 3,600,000 in summer). */
export function londonOffset(ms: number): number {
  const p = londonParts(Math.floor(ms / 60_000) * 60_000);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(ms / 60_000) * 60_000;
}

/** The instant UK local midnight starts the given date (month 1–12; days overflow like Date.UTC). */
export function londonMidnight(year: number, month: number, day: number): number {
  const guess = Date.UTC(year, month - 1, day);
  // The clocks change at 01:00 UTC, so the offset at UTC midnight is the one at local midnight.
  return guess - londonOffset(guess);
}

/** The start of the UK day containing `ms`. */
export function londonDayStart(ms: number): number {
  const p = londonParts(ms);
  return londonMidnight(p.year, p.month, p.day);
}

/** The start of the UK day after the one containing `ms`. */
export function londonNextDayStart(ms: number): number {
  const p = londonParts(ms);
  return londonMidnight(p.year, p.month, p.day + 1);
}

/** YYYY-MM-DD of the UK day containing `ms`. */
export function londonDate(ms: number): string {
  const p = londonParts(ms);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** Minutes since UK local midnight (0–1439). */
export function londonMinuteOfDay(ms: number): number {
  const p = londonParts(ms);
  return p.hour * 60 + p.minute;
}

export function slotStart(ms: number): number {
  return Math.floor(ms / SLOT_MS) * SLOT_MS;
}

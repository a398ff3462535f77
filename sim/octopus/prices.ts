// The simulated Agile price curve: a pure function of the slot and the region, shaped like the
// real one — cheap nights, a daytime plateau, an evening peak (16:00–19:00 UK time), a little
// day-to-day noise, and on some days a negative "plunge" slot before dawn.
import { SLOT_MS, londonDate, londonMinuteOfDay, londonMidnight, londonParts } from '../../shared/london-time.js';

export const REGIONS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P'] as const;
export type Region = (typeof REGIONS)[number];

/** p/kWh inc. VAT by UK local hour, before region and noise. */
const HOURLY = [
  13,
  12,
  11,
  10.5,
  10,
  11, // 00–05: cheap nights
  15,
  19,
  22,
  21,
  20,
  19, // 06–11: morning
  18,
  17.5,
  18,
  20, // 12–15: afternoon dip
  32,
  36,
  34, // 16–18: the evening peak
  26,
  23,
  21,
  18,
  15, // 19–23
];

const VAT = 1.05;
/** The price cap, p/kWh inc. VAT. */
export const CAP = 100;

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) / 0xffffffff;
}

/** Whether the UK day holding `ms` has a negative slot (about one day in three). */
export function hasPlunge(ms: number, region: Region): boolean {
  return hash(`plunge:${region}:${londonDate(ms)}`) < 0.34;
}

/** The negative slot of a plunge day: 04:00 UK time. */
export function plungeSlot(ms: number): number {
  const p = londonParts(ms);
  return londonMidnight(p.year, p.month, p.day) + 4 * 3_600_000 + 0 * SLOT_MS;
}

export interface SimPrice {
  valueIncVat: number;
  valueExcVat: number;
}

export function agilePrice(slotStartMs: number, region: Region): SimPrice {
  const minute = londonMinuteOfDay(slotStartMs);
  const base = HOURLY[Math.floor(minute / 60)]!;
  const regionFactor = 0.94 + (REGIONS.indexOf(region) % 7) * 0.02;
  const noise = (hash(`${region}:${slotStartMs}`) - 0.5) * 3;
  let inc = base * regionFactor + noise;
  if (hasPlunge(slotStartMs, region) && slotStartMs === plungeSlot(slotStartMs))
    inc = -(1 + hash(`neg:${slotStartMs}`) * 4);
  inc = Math.min(CAP, Math.round(inc * 100) / 100);
  return { valueIncVat: inc, valueExcVat: Math.round((inc / VAT) * 10000) / 10000 };
}

/** The end of what is published at `now`: 23:00 UK time tomorrow from 16:00 UK time, else 23:00 today. */
export function publishedUntil(now: number): number {
  const p = londonParts(now);
  const days = p.hour >= 16 ? 2 : 1;
  return londonMidnight(p.year, p.month, p.day + days) - 3_600_000;
}

// Count/sum/min/max accumulators: a roll-up bucket is one per metric (and per temperature sensor),
// merged sample by sample on insert and bucket by bucket when a query asks for a coarser step.
import type { HistoryPoint, SampleRow, Stat } from '../types.js';

export interface Agg {
  n: number;
  sum: number;
  min: number;
  max: number;
}

export const METRICS = ['hr', 'pw', 'ef', 'rpm', 'pct'] as const;
export type Metric = (typeof METRICS)[number];

/** A bucket of samples of one miner. */
export interface Bucket {
  t: number;
  n: number;
  hr: Agg | null;
  pw: Agg | null;
  ef: Agg | null;
  rpm: Agg | null;
  pct: Agg | null;
  temps: Record<string, Agg>;
}

export function emptyBucket(t: number): Bucket {
  return { t, n: 0, hr: null, pw: null, ef: null, rpm: null, pct: null, temps: {} };
}

export function addValue(a: Agg | null, v: number | null): Agg | null {
  if (v === null || !Number.isFinite(v)) return a;
  if (a === null) return { n: 1, sum: v, min: v, max: v };
  return { n: a.n + 1, sum: a.sum + v, min: Math.min(a.min, v), max: Math.max(a.max, v) };
}

export function mergeAgg(a: Agg | null, b: Agg | null): Agg | null {
  if (a === null) return b === null ? null : { ...b };
  if (b === null) return a;
  return { n: a.n + b.n, sum: a.sum + b.sum, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

export function sampleValues(s: SampleRow): Record<Metric, number | null> {
  return { hr: s.hashrateGhs, pw: s.powerW, ef: s.efficiencyJth, rpm: s.fanRpm, pct: s.fanPercent };
}

/** Adds one sample to a bucket (in place). */
export function addSample(b: Bucket, s: SampleRow): void {
  b.n += 1;
  const v = sampleValues(s);
  for (const m of METRICS) b[m] = addValue(b[m], v[m]);
  for (const [name, c] of Object.entries(s.temperatures)) {
    const merged = addValue(b.temps[name] ?? null, c);
    if (merged) b.temps[name] = merged;
  }
}

/** Adds bucket `from` to `into` (in place). */
export function mergeBucket(into: Bucket, from: Bucket): void {
  into.n += from.n;
  for (const m of METRICS) into[m] = mergeAgg(into[m], from[m]);
  for (const [name, a] of Object.entries(from.temps)) into.temps[name] = mergeAgg(into.temps[name] ?? null, a)!;
}

export function stat(a: Agg | null): Stat | null {
  return a === null || a.n === 0 ? null : { min: a.min, mean: a.sum / a.n, max: a.max };
}

export function toPoint(b: Bucket): HistoryPoint {
  const temperatures: Record<string, Stat> = {};
  for (const [name, a] of Object.entries(b.temps)) temperatures[name] = stat(a)!;
  return {
    t: b.t,
    n: b.n,
    hashrateGhs: stat(b.hr),
    powerW: stat(b.pw),
    efficiencyJth: stat(b.ef),
    temperatures,
    fanRpm: stat(b.rpm),
    fanPercent: stat(b.pct),
  };
}

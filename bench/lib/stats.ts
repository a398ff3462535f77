// Percentiles and summaries of measured values. Nearest-rank percentiles: every figure reported
// is a value that was actually measured, never an interpolation between two.

/** The p-th percentile (0 < p ≤ 1) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** n, p50, p90, p99 and max of `values`, rounded to `digits` decimals. */
export function summarize(values: readonly number[], digits = 1): Summary {
  return {
    n: values.length,
    p50: round(percentile(values, 0.5), digits),
    p90: round(percentile(values, 0.9), digits),
    p99: round(percentile(values, 0.99), digits),
    max: round(values.length ? Math.max(...values) : NaN, digits),
  };
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

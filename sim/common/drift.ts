// Cheap, deterministic telemetry drift: values are computed from the time when asked, never by
// timers, so a thousand simulated devices in one process cost nothing while idle.

/** A 32-bit hash of (seed, n) → [0, 1). */
function hash01(seed: number, n: number): number {
  let h = (seed ^ Math.imul(n, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4_294_967_296;
}

/**
 * Smooth noise in [-1, 1]: random values every `periodMs`, interpolated (cosine) in between, so
 * consecutive polls see a value that wanders rather than jumps.
 */
export function smoothNoise(seed: number, tMs: number, periodMs: number): number {
  const x = tMs / periodMs;
  const i = Math.floor(x);
  const f = x - i;
  const a = hash01(seed, i) * 2 - 1;
  const b = hash01(seed, i + 1) * 2 - 1;
  const w = (1 - Math.cos(f * Math.PI)) / 2;
  return a * (1 - w) + b * w;
}

/** base × (1 + amplitude × noise): a value drifting around `base` by about ±amplitude. */
export function drift(base: number, amplitude: number, seed: number, tMs: number, periodMs = 7_000): number {
  const slow = smoothNoise(seed, tMs, periodMs * 6);
  const fast = smoothNoise(seed + 1, tMs, periodMs);
  return base * (1 + amplitude * (0.6 * slow + 0.4 * fast));
}

/** A seed from a string (board name, address): stable across runs. */
export function seedOf(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function round(n: number, digits = 2): number {
  const p = 10 ** digits;
  return Math.round(n * p) / p;
}

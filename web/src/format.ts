// Numbers as a person reads them: hashrate scaled per device (kH/s to PH/s), watts, J/TH, prices.
const DASH = '—';

const HASH_UNITS: Array<[number, string]> = [
  [1e6, 'PH/s'],
  [1e3, 'TH/s'],
  [1, 'GH/s'],
  [1e-3, 'MH/s'],
  [1e-6, 'kH/s'],
  [1e-9, 'H/s'],
];

/** The unit a hashrate in GH/s reads best in: [GH/s per unit, unit] (a chart scales every point by one). */
export function hashrateUnit(ghs: number): [number, string] {
  return HASH_UNITS.find(([scale]) => Math.abs(ghs) >= scale) ?? HASH_UNITS[HASH_UNITS.length - 1]!;
}

export function hashrate(ghs: number | null | undefined): string {
  if (ghs == null || !Number.isFinite(ghs)) return DASH;
  const [scale, unit] = hashrateUnit(ghs);
  return `${num(ghs / scale)} ${unit}`;
}

export function num(x: number | null | undefined, digits = 3): string {
  if (x == null || !Number.isFinite(x)) return DASH;
  if (x === 0) return '0';
  const abs = Math.abs(x);
  const d = abs >= 100 ? 0 : abs >= 10 ? 1 : Math.max(0, digits - 1);
  return x.toFixed(d);
}

export const watts = (w: number | null | undefined): string =>
  w == null ? DASH : w >= 1000 ? `${num(w / 1000)} kW` : `${num(w)} W`;
export const jth = (x: number | null | undefined): string => (x == null ? DASH : `${num(x)} J/TH`);
export const celsius = (x: number | null | undefined): string => (x == null ? DASH : `${num(x)} °C`);
export const pence = (p: number | null | undefined): string => (p == null ? DASH : `${p.toFixed(2)} p/kWh`);
export const money = (p: number | null | undefined): string =>
  p == null ? DASH : Math.abs(p) >= 100 ? `£${(p / 100).toFixed(2)}` : `${p.toFixed(1)} p`;

export function when(t: string | number | null | undefined): string {
  if (t == null) return DASH;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function ago(t: string | number | null | undefined, now = Date.now()): string {
  if (t == null) return DASH;
  const ms = now - new Date(t).getTime();
  if (!Number.isFinite(ms)) return DASH;
  const s = Math.round(ms / 1000);
  if (Math.abs(s) < 60) return s >= 0 ? `${s}s ago` : `in ${-s}s`;
  const m = Math.round(s / 60);
  if (Math.abs(m) < 60) return m >= 0 ? `${m} min ago` : `in ${-m} min`;
  const h = Math.round(m / 60);
  if (Math.abs(h) < 48) return h >= 0 ? `${h} h ago` : `in ${-h} h`;
  return when(t);
}

/** A price slot's price in p/kWh, whatever the source names it. */
export function priceOf(slot: unknown): number | null {
  if (!slot || typeof slot !== 'object') return null;
  const s = slot as Record<string, unknown>;
  for (const k of ['price', 'priceIncVat', 'pencePerKwh', 'value_inc_vat'])
    if (typeof s[k] === 'number') return s[k] as number;
  // the fleet's /energy/next answers {slot: {...}}
  return s.slot ? priceOf(s.slot) : null;
}

export interface EnergyUse {
  kWh: number;
  /** pence */
  cost: number;
}

/** Today's energy and cost from GET /api/dashboard/energy/cost (its `days`, by local date). */
export function today(cost: unknown): EnergyUse | null {
  const days = (cost as { days?: Array<EnergyUse & { period: string }> } | undefined)?.days;
  if (!Array.isArray(days) || days.length === 0) return null;
  const d = new Date();
  const key = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  return days.find((x) => x.period === key) ?? null;
}

/** A price slot's start (ms), whatever the source names it. */
export function slotStart(slot: unknown): number | null {
  if (!slot || typeof slot !== 'object') return null;
  const s = slot as Record<string, unknown>;
  for (const k of ['from', 'start', 'validFrom', 'valid_from', 'at', 't']) {
    const v = s[k];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
  }
  return null;
}

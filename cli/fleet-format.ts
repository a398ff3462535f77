// How `mvm fleet` shows miners, history and events to a person: hashrates scaled per device
// (an NMMiner in kH/s, a Bitaxe in TH/s), power in W, efficiency in J/TH, times in UTC.
import { table } from './table.js';

/** GH/s → "512 kH/s", "1.02 MH/s", "480 GH/s", "1.21 TH/s"; "-" when unknown. */
export function formatHashrate(ghs: number | null | undefined): string {
  if (ghs === null || ghs === undefined || !Number.isFinite(ghs)) return '-';
  const units: Array<[number, string]> = [
    [1000, 'TH/s'],
    [1, 'GH/s'],
    [0.001, 'MH/s'],
    [0.000001, 'kH/s'],
  ];
  if (ghs === 0) return '0 H/s';
  for (const [scale, unit] of units) {
    if (Math.abs(ghs) >= scale) return `${round3(ghs / scale)} ${unit}`;
  }
  return `${round3(ghs * 1e9)} H/s`;
}

function round3(x: number): string {
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export const orDash = (v: number | null | undefined, unit: string, digits = 1) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(digits)} ${unit}`;

export function utc(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().replace('T', ' ').slice(0, 19);
}

export interface MinerRow {
  id: string;
  driver: string;
  status: string;
  source: string;
  testbed: string | null;
  model: string | null;
  tags: string[];
  last: {
    hashrateGhs: number | null;
    powerW: number | null;
    efficiencyJth: number | null;
    temperatures: Record<string, number>;
  } | null;
  desired: { mode: string | null } | null;
}

export function hottest(t: Record<string, number> | undefined): number | null {
  const v = Object.values(t ?? {});
  return v.length ? Math.max(...v) : null;
}

export function minersTable(miners: MinerRow[]): string {
  const rows: string[][] = [];
  for (const m of miners) {
    rows.push([
      m.id,
      m.driver,
      m.status,
      m.status === 'online' ? formatHashrate(m.last?.hashrateGhs) : '-',
      m.status === 'online' ? orDash(m.last?.powerW, 'W') : '-',
      m.status === 'online' ? orDash(m.last?.efficiencyJth, '', 1).trim() : '-',
      orDash(hottest(m.last?.temperatures), '°C', 0),
      m.desired?.mode ?? '-',
      m.testbed ? `testbed ${m.testbed}` : m.source,
    ]);
  }
  return table(['MINER', 'DRIVER', 'STATUS', 'HASHRATE', 'POWER', 'J/TH', 'TEMP', 'MODE', 'SOURCE'], rows);
}

export interface EventRow {
  id: number;
  at: string;
  minerId: string | null;
  kind: string;
  level: string;
  message: string;
  actor: string | null;
}

export function eventLine(e: EventRow): string {
  return `${utc(e.at)}  ${e.level.padEnd(5)} ${e.kind.padEnd(8)} ${(e.minerId ?? '-').padEnd(14)} ${e.message}${e.actor ? `  (by ${e.actor})` : ''}`;
}

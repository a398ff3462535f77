// Avalon replies → the normalised telemetry. Model rules: the Nano 3S reports wall watts as the 7th
// PS[] value; on the Nano 3 (non-S) PS[] means something else, so power is unknown (null) rather
// than a wrong number.
import { efficiency, type DeviceSpec, type Fan, type Telemetry } from '../types.js';
import { firstNumber, mmString, numbers, parseBracketPairs, type CgReply } from './parse.js';

export type AvalonModel = 'nano3' | 'nano3s' | 'avalon';

/** Decides the model from the device option `model`, the version reply, or the estats Ver[]. */
export function avalonModel(hints: Array<string | undefined>): AvalonModel {
  const text = hints.filter(Boolean).join(' ');
  if (/nano\s*-?\s*3\s*-?\s*s/i.test(text)) return 'nano3s';
  if (/nano\s*-?\s*3/i.test(text)) return 'nano3';
  return 'avalon';
}

/** The stats item ID names the model: AVANANO0 on the Nano 3, AVALON0 on the 3S. */
export function statsIdModel(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  if (/^AVANANO/i.test(id)) return 'nano 3';
  return undefined;
}

/** The firmware build from the version record: CGVERSION/LVERSION (3S), VERSION (Nano 3). */
export function firmwareOf(v: Record<string, unknown> | undefined): string | null {
  for (const k of ['CGVERSION', 'LVERSION', 'VERSION'])
    if (typeof v?.[k] === 'string' && v[k] !== '') return v[k] as string;
  return null;
}

export function modelName(model: AvalonModel, prod?: string): string {
  if (model === 'nano3s') return 'Avalon Nano 3S';
  if (model === 'nano3') return 'Avalon Nano 3';
  return prod ?? 'Avalon (cgminer)';
}

/** Wall watts from PS[err, Vctl, Vhash, Iout, Pout, Vset, Wall]; null when unknown for this model. */
export function avalonPower(model: AvalonModel, ps: string | undefined): number | null {
  if (model === 'nano3') return null;
  const v = numbers(ps);
  if (v.length < 7) return null;
  return v[6] > 0 ? v[6] : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export interface AvalonReplies {
  summary?: CgReply;
  estats?: CgReply;
  version?: CgReply;
}

export function versionRecord(reply: CgReply | undefined): Record<string, unknown> | undefined {
  const v = reply?.VERSION;
  return Array.isArray(v) ? (v[0] as Record<string, unknown>) : undefined;
}

export function summaryRecord(reply: CgReply | undefined): Record<string, unknown> | undefined {
  const s = reply?.SUMMARY;
  return Array.isArray(s) ? (s[0] as Record<string, unknown>) : undefined;
}

export function normaliseAvalon(
  device: DeviceSpec,
  replies: AvalonReplies,
  modelHint?: string,
  at = new Date(),
): Telemetry {
  const mmText = replies.estats ? mmString(replies.estats) : undefined;
  const mm = mmText ? parseBracketPairs(mmText) : {};
  const ver = versionRecord(replies.version);
  const sum = summaryRecord(replies.summary);
  const model = avalonModel([modelHint, String(ver?.PROD ?? ''), String(ver?.MODEL ?? ''), mm.Ver]);

  let hashrate = firstNumber(mm.GHSspd);
  if (hashrate === null && sum) {
    const mhs = num(sum['MHS 5s']) ?? num(sum['MHS 1m']);
    if (mhs !== null) hashrate = Math.round((mhs / 1000) * 100) / 100;
  }
  const expected = firstNumber(mm.GHSmm);
  const power = avalonPower(model, mm.PS);

  const temperatures: Record<string, number> = {};
  for (const [key, name] of [
    ['TAvg', 'chip_avg'],
    ['TMax', 'chip_max'],
    ['ITemp', 'inlet'],
    ['OTemp', 'outlet'],
    ['Temp', 'ambient'],
    ['HBITemp', 'board_in'],
    ['HBOTemp', 'board_out'],
  ] as const) {
    const t = firstNumber(mm[key]);
    // Absent sensors read -273 (or similar nonsense): leave them out rather than report it.
    if (t !== null && t > -50 && t < 200) temperatures[name] = t;
  }
  const fanPercent = firstNumber(mm.FanR);
  const fans: Fan[] = [];
  for (const key of Object.keys(mm)
    .filter((k) => /^Fan\d+$/.test(k))
    .sort()) {
    fans.push({ name: key.toLowerCase(), rpm: firstNumber(mm[key]), percent: fanPercent });
  }
  const softOff = mm.SoftOFF;
  return {
    device: device.name,
    driver: 'cgminer',
    at: at.toISOString(),
    online: true,
    hashrateGhs: hashrate,
    expectedHashrateGhs: expected,
    powerW: power,
    efficiencyJth: efficiency(power, hashrate),
    temperatures,
    fans,
    sharesAccepted: num(sum?.Accepted),
    sharesRejected: num(sum?.Rejected),
    uptimeS: num(sum?.Elapsed) ?? firstNumber(mm.Elapsed),
    firmwareVersion: firmwareOf(ver) ?? mm.Ver ?? null,
    paused: softOff === undefined ? null : softOff !== '0',
    raw: { model, summary: sum, estats: mm, version: ver },
  };
}

// NMMiner telemetry datagrams: display strings with SI suffixes ("113.13K", "1.0154MH/s", "4.021M"),
// keys whose case varies between builds (`IP` vs `ip`, `HashRate` vs `hashrate`), uptime as
// "00d 01:23:46", shares as "rejected/accepted" ("1/138"). NMAxe firmware sends `Share` as
// "rej/acc/pct%" and `Uptime` as "session\rever".
import { type DeviceSpec, type Telemetry } from '../types.js';

const SI: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** "113.13K" → 113130; "1.0154MH/s" → 1015400; 48.5 → 48.5; garbage → null. */
export function parseSi(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([kKMGTPE]?)\s*(?:H\/s|H|\/s)?\s*$/i.exec(v);
  if (!m) return null;
  // A lone "m" suffix would be milli in SI; NMMiner never sends it, so only the listed letters count.
  const mult = SI[m[2]] ?? SI[m[2].toUpperCase()];
  if (mult === undefined) return null;
  return Number((Number(m[1]) * mult).toPrecision(12));
}

/** "00d 01:23:46" or "01:23:46" → seconds; NMAxe's "session\rever" → the session's. */
export function parseUptime(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return null;
  const m = /^\s*(?:(\d+)\s*d\s*)?(\d+):(\d{1,2}):(\d{1,2})\s*$/.exec(v.split(/\r\n?|\n/)[0]);
  if (!m) return null;
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

/** "1/138" → {rejected: 1, accepted: 138}; NMAxe's "1/138/0.72%" the same. */
export function parseShares(v: unknown): { accepted: number | null; rejected: number | null } {
  if (typeof v !== 'string') return { accepted: null, rejected: null };
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*(?:\/\s*\d+(?:\.\d+)?\s*%)?\s*$/.exec(v);
  if (!m) return { accepted: null, rejected: null };
  return { rejected: Number(m[1]), accepted: Number(m[2]) };
}

/** Reads a key regardless of its case. */
export function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : obj[key];
}

export function isTelemetryDatagram(obj: Record<string, unknown>): boolean {
  return field(obj, 'HashRate') !== undefined || field(obj, 'BoardType') !== undefined;
}

export function normaliseNmminer(device: DeviceSpec, msg: Record<string, unknown>, at = new Date()): Telemetry {
  const hs = parseSi(field(msg, 'HashRate'));
  const shares = parseShares(field(msg, 'Share'));
  const temp = field(msg, 'Temp');
  const temperatures: Record<string, number> = {};
  const t = typeof temp === 'number' ? temp : parseSi(temp);
  if (t !== null) temperatures.chip = t;
  const version = field(msg, 'Version');
  return {
    device: device.name,
    driver: 'nmminer',
    at: at.toISOString(),
    online: true,
    hashrateGhs: hs === null ? null : hs / 1e9,
    expectedHashrateGhs: null,
    powerW: null,
    efficiencyJth: null,
    temperatures,
    fans: [],
    sharesAccepted: shares.accepted,
    sharesRejected: shares.rejected,
    uptimeS: parseUptime(field(msg, 'Uptime')),
    firmwareVersion: typeof version === 'string' ? version : null,
    paused: null,
    raw: msg,
  };
}

// A device's baseline in the testbed description — the pools and settings it has at rest, what it
// should hash — validated with every problem located by key, and its baseline firmware.
import { isAbsolute } from 'node:path';
import { splitPoolUrl } from './drivers/pools.js';
import { normaliseMode } from './drivers/modes.js';
import {
  DRIVER_KINDS,
  type DeviceSettings,
  type DeviceSpec,
  type DriverKind,
  type PoolConfig,
} from './drivers/types.js';

type Problem = (key: string, message: string, hint?: string) => void;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parsePools(v: unknown, k: string, p: Problem): PoolConfig[] | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    p(
      k,
      'must be a non-empty array of {url, user, password?}',
      'e.g. [{"url": "stratum+tcp://pool.lab:3333", "user": "bc1q….gamma"}]',
    );
    return undefined;
  }
  const pools: PoolConfig[] = [];
  v.forEach((pool: unknown, i: number) => {
    const pk = `${k}[${i}]`;
    if (!isObject(pool)) return p(pk, 'must be an object {url, user, password?}');
    const url = typeof pool.url === 'string' && pool.url !== '' ? pool.url : undefined;
    const user = typeof pool.user === 'string' && pool.user !== '' ? pool.user : undefined;
    if (!url) p(`${pk}.url`, 'missing', 'stratum+tcp://HOST:PORT');
    else {
      try {
        splitPoolUrl({ url, user: '' });
      } catch (err) {
        p(`${pk}.url`, (err as Error).message);
      }
    }
    if (!user) p(`${pk}.user`, 'missing', 'the pool user (wallet address and worker name)');
    if (pool.password !== undefined && typeof pool.password !== 'string') p(`${pk}.password`, 'must be a string');
    if (url && user) pools.push({ url, user, password: pool.password as string | undefined });
  });
  return pools;
}

const RANGES = { frequency: [50, 1500, 'MHz'], voltage: [800, 1600, 'mV'], fan: [0, 100, '%'] } as const;

function parseSettings(v: unknown, k: string, p: Problem, driver: unknown): DeviceSettings | undefined {
  if (!isObject(v)) {
    p(k, 'must be an object {mode?, frequency?, voltage?, fan?}');
    return undefined;
  }
  const settings: DeviceSettings = {};
  if (v.mode !== undefined) {
    // The names (and aliases) the driver takes; whether the board offers the preset is checked
    // against the device itself when the baseline is applied.
    const kind: DriverKind = DRIVER_KINDS.includes(driver as DriverKind) ? (driver as DriverKind) : 'command';
    try {
      if (typeof v.mode !== 'string') throw new Error('must be a string');
      settings.mode = normaliseMode(kind, v.mode);
    } catch (err) {
      const hint = (err as { hint?: string }).hint;
      p(`${k}.mode`, `unknown mode ${JSON.stringify(v.mode)}`, hint ?? 'a mode name');
    }
  }
  for (const key of ['frequency', 'voltage', 'fan'] as const) {
    const x = v[key];
    if (x === undefined) continue;
    const [lo, hi, unit] = RANGES[key];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi)
      p(`${k}.${key}`, `must be a whole number of ${unit} from ${lo} to ${hi}, got ${JSON.stringify(x)}`);
    else settings[key] = x;
  }
  return settings;
}

/** The baseline fields of one device entry (`devices[i]` is `k`); problems go to `p`. */
export function parseDeviceBaseline(
  d: Record<string, unknown>,
  k: string,
  p: Problem,
): Pick<DeviceSpec, 'pools' | 'settings' | 'expectedHashrateGhs' | 'maxTemperatureC'> {
  const out: Pick<DeviceSpec, 'pools' | 'settings' | 'expectedHashrateGhs' | 'maxTemperatureC'> = {};
  if (d.pools !== undefined) out.pools = parsePools(d.pools, `${k}.pools`, p);
  if (d.settings !== undefined) out.settings = parseSettings(d.settings, `${k}.settings`, p, d.driver);
  if (d.expected_hashrate_ghs !== undefined) {
    const x = d.expected_hashrate_ghs;
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0)
      p(`${k}.expected_hashrate_ghs`, `must be a positive number of GH/s, got ${JSON.stringify(x)}`);
    else out.expectedHashrateGhs = x;
  }
  if (d.max_temperature !== undefined) {
    const x = d.max_temperature;
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0 || x > 150)
      p(`${k}.max_temperature`, `must be a temperature in °C from 1 to 150, got ${JSON.stringify(x)}`);
    else out.maxTemperatureC = x;
  }
  return out;
}

/** The top-level `firmware_dir`: an absolute folder path. */
export function parseFirmwareDir(v: unknown, p: Problem): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !isAbsolute(v)) {
    p(
      'firmware_dir',
      `must be an absolute folder path, got ${JSON.stringify(v)}`,
      'the lab\'s firmware library, e.g. "/var/lib/mvm/firmware"',
    );
    return undefined;
  }
  return v;
}

/** A device's baseline firmware: its own `software`, else the testbed's `baseline`. */
export function baselineFirmware(device: DeviceSpec, testbed: { baseline?: string }): string | undefined {
  return device.software ?? testbed.baseline;
}

// A device's baseline in the testbed description — the pools and settings it has at rest, what it
// should hash — after the contract judged its shape: the runner's own rules (pool URLs, mode
// names, setting ranges), every problem located by key; and its baseline firmware.
import { isAbsolute } from 'node:path';
import type { Table } from '../shared/contracts/judge.js';
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

function pools(list: Array<Table | undefined>, k: string, p: Problem): PoolConfig[] {
  const out: PoolConfig[] = [];
  list.forEach((pool, i) => {
    const url = pool?.url as string | undefined;
    if (url === undefined) return; // reported by the judge
    try {
      splitPoolUrl({ url, user: '' });
    } catch (err) {
      return p(`${k}[${i}].url`, (err as Error).message);
    }
    if (pool?.user !== undefined)
      out.push({ url, user: pool.user as string, password: pool.password as string | undefined });
  });
  return out;
}

const RANGES = { frequency: [50, 1500, 'MHz'], voltage: [800, 1600, 'mV'], fan: [0, 100, '%'] } as const;

function settingsOf(v: Table, k: string, p: Problem, driver: unknown): DeviceSettings {
  const settings: DeviceSettings = {};
  if (typeof v.mode === 'string') {
    // The names (and aliases) the driver takes; whether the board offers the preset is checked
    // against the device itself when the baseline is applied.
    const kind: DriverKind = DRIVER_KINDS.includes(driver as DriverKind) ? (driver as DriverKind) : 'command';
    try {
      settings.mode = normaliseMode(kind, v.mode);
    } catch (err) {
      const hint = (err as { hint?: string }).hint;
      p(`${k}.mode`, `unknown mode ${JSON.stringify(v.mode)}`, hint ?? 'a mode name');
    }
  }
  for (const key of ['frequency', 'voltage', 'fan'] as const) {
    const x = v[key] as number | undefined;
    if (x === undefined) continue;
    const [lo, hi, unit] = RANGES[key];
    if (x < lo || x > hi) p(`${k}.${key}`, `must be a whole number of ${unit} from ${lo} to ${hi}, got ${x}`);
    else settings[key] = x;
  }
  return settings;
}

/** The baseline fields of one device entry the contract judged (`devices[i]` is `k`); problems go to `p`. */
export function deviceBaseline(
  d: Table,
  k: string,
  p: Problem,
): Pick<DeviceSpec, 'pools' | 'settings' | 'expectedHashrateGhs' | 'maxTemperatureC'> {
  const out: Pick<DeviceSpec, 'pools' | 'settings' | 'expectedHashrateGhs' | 'maxTemperatureC'> = {};
  if (d.pools !== undefined) out.pools = pools(d.pools as Array<Table | undefined>, `${k}.pools`, p);
  if (d.settings !== undefined) out.settings = settingsOf(d.settings as Table, `${k}.settings`, p, d.driver);
  if (d.expected_hashrate_ghs !== undefined) out.expectedHashrateGhs = d.expected_hashrate_ghs as number;
  if (d.max_temperature !== undefined) out.maxTemperatureC = d.max_temperature as number;
  return out;
}

/** The top-level `firmware_dir`: an absolute folder path. */
export function firmwareDirOf(v: string | undefined, p: Problem): string | undefined {
  if (v === undefined) return undefined;
  if (!isAbsolute(v)) {
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

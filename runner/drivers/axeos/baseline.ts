// Whether an AxeOS device already holds its baseline pools and settings, judged from
// /api/system/info, so that restoring a device that is at its baseline changes nothing (and needs
// no restart). Pure: the driver passes the info it read.
import { splitPoolUrl } from '../pools.js';
import type { BaselineComparison, DeviceSettings, PoolConfig } from '../types.js';
import { normaliseMode } from '../modes.js';
import { presetFor, type AxeosMode } from './limits.js';
import { hardwareOf, type AxeosInfo } from './telemetry.js';
import type { AxeosFeatures } from './version.js';

interface Endpoint {
  host: string;
  port: number;
  user: string;
}

const describePools = (pools: Endpoint[]) => pools.map((p) => `${p.host}:${p.port} ${p.user}`).join(', ') || 'no pools';

/** The pools the device stores, primary first. Passwords are not readable, so not compared. */
function storedPools(info: AxeosInfo, features: AxeosFeatures): Endpoint[] {
  const endpoint = (url: unknown, port: unknown, user: unknown): Endpoint => ({
    host: String(url ?? ''),
    port: Number(port),
    user: String(user ?? ''),
  });
  if (features.poolsApi && Array.isArray(info.pools))
    return info.pools.map((p) => endpoint(p.stratumURL, p.stratumPort, p.stratumUser));
  const pools = [endpoint(info.stratumURL, info.stratumPort, info.stratumUser)];
  if (info.fallbackStratumURL)
    pools.push(endpoint(info.fallbackStratumURL, info.fallbackStratumPort, info.fallbackStratumUser));
  return pools;
}

function comparePools(
  want: PoolConfig[],
  info: AxeosInfo,
  features: AxeosFeatures,
): { same: boolean; current: string } {
  const have = storedPools(info, features);
  let wanted: Endpoint[];
  try {
    wanted = want.map((p) => ({ ...splitPoolUrl(p), user: p.user }));
  } catch {
    return { same: false, current: describePools(have) }; // the driver's pools-set says what is wrong
  }
  const eq = (a: Endpoint, b: Endpoint | undefined) =>
    b !== undefined && a.host === b.host && a.port === b.port && a.user === b.user;
  // The pools API replaces the whole list; the old keys keep a fallback that was not named.
  const countOk = features.poolsApi
    ? have.length === wanted.length && (info.primaryPoolIndex ?? 0) === 0
    : have.length >= wanted.length;
  return { same: countOk && wanted.every((w, i) => eq(w, have[i])), current: describePools(have) };
}

function compareSettings(want: DeviceSettings, info: AxeosInfo): { same: boolean; current: string } {
  const manualFan = typeof info.manualFanSpeed === 'number' ? info.manualFanSpeed : info.fanspeed;
  const oc = info.overclockEnabled ? ', overclocking on' : '';
  const current = `${info.frequency ?? '?'} MHz, ${info.coreVoltage ?? '?'} mV${oc}, fan ${info.autofanspeed === 0 ? `${manualFan ?? '?'} %` : 'auto'}`;
  const target: Record<string, unknown> = {};
  if (want.mode !== undefined) {
    let preset: ReturnType<typeof presetFor>;
    try {
      preset = presetFor(normaliseMode('axeos', want.mode) as AxeosMode, hardwareOf(info));
    } catch {
      return { same: false, current }; // the driver's mode control says what is wrong
    }
    if (!preset.ok) return { same: false, current };
    Object.assign(target, { frequency: preset.setting.frequency, coreVoltage: preset.setting.coreVoltage });
    if (info.overclockEnabled !== undefined) target.overclockEnabled = want.mode === 'oc' ? 1 : 0;
  }
  if (want.frequency !== undefined) target.frequency = want.frequency;
  if (want.voltage !== undefined) target.coreVoltage = want.voltage;
  const same =
    Object.entries(target).every(([k, v]) => info[k] === v) &&
    (want.fan === undefined || (info.autofanspeed === 0 && manualFan === want.fan));
  return { same, current };
}

export function compareAxeosBaseline(
  want: { pools?: PoolConfig[]; settings?: DeviceSettings },
  info: AxeosInfo,
  features: AxeosFeatures,
): BaselineComparison {
  return {
    pools: want.pools ? comparePools(want.pools, info, features) : undefined,
    settings: want.settings ? compareSettings(want.settings, info) : undefined,
  };
}

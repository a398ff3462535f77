// GET /api/system/info → the normalised telemetry and device info. Pure functions, tested against
// recorded replies (v2.0.0 onwards; NerdQAxe adds fields and keeps bestDiff as a string).
import { efficiency, type DeviceInfo, type DeviceSpec, type Fan, type Telemetry } from '../types.js';
import { asicForBoard, boardName, isAsicModel, type AsicModel } from './models.js';

/** The subset of SystemInfo the driver reads; every field may be missing on some generation. */
export interface AxeosInfo {
  ASICModel?: string;
  asicCount?: number;
  boardVersion?: string;
  deviceModel?: string;
  version?: string;
  axeOSVersion?: string;
  hashRate?: number;
  hashRate_1m?: number;
  expectedHashrate?: number;
  smallCoreCount?: number;
  frequency?: number;
  coreVoltage?: number;
  power?: number;
  temp?: number;
  temp2?: number;
  vrTemp?: number;
  fanrpm?: number;
  fan2rpm?: number;
  fanspeed?: number;
  sharesAccepted?: number;
  sharesRejected?: number;
  uptimeSeconds?: number;
  runningPartition?: string;
  miningPaused?: boolean;
  stratumURL?: string;
  stratumPort?: number;
  stratumUser?: string;
  fallbackStratumURL?: string;
  fallbackStratumPort?: number;
  fallbackStratumUser?: string;
  isUsingFallbackStratum?: number;
  primaryPoolIndex?: number;
  secondaryPoolIndex?: number;
  pools?: Array<{ id?: number; stratumURL?: string; stratumPort?: number; stratumUser?: string }>;
  hostname?: string;
  [key: string]: unknown;
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

export function isNerdQAxe(info: AxeosInfo): boolean {
  if (/nerd/i.test(String(info.deviceModel ?? ''))) return true;
  return !info.boardVersion && /nerd/i.test(String(info.hostname ?? ''));
}

/** The board id a device reports: boardVersion on ESP-Miner, deviceModel on NerdQAxe (no boardVersion). */
export function hardwareOf(info: AxeosInfo): string | null {
  if (typeof info.boardVersion === 'string' && info.boardVersion.trim() !== '') return info.boardVersion.trim();
  return typeof info.deviceModel === 'string' && info.deviceModel !== '' ? info.deviceModel : null;
}

export function asicOf(info: AxeosInfo): AsicModel | undefined {
  return isAsicModel(info.ASICModel) ? info.ASICModel : asicForBoard(info.boardVersion);
}

/** Expected GH/s: the device's own figure, else small cores × ASICs × MHz / 1000. */
export function expectedHashrate(info: AxeosInfo): number | null {
  const reported = num(info.expectedHashrate);
  if (reported !== null) return reported;
  const cores = num(info.smallCoreCount);
  const mhz = num(info.frequency);
  if (cores === null || mhz === null) return null;
  const asics = num(info.asicCount) ?? 1;
  return Math.round(((cores * asics * mhz) / 1000) * 100) / 100;
}

export function normaliseInfo(device: DeviceSpec, info: AxeosInfo, at = new Date()): Telemetry {
  const hashrate = num(info.hashRate);
  const power = num(info.power);
  const temperatures: Record<string, number> = {};
  const chip = num(info.temp);
  if (chip !== null) temperatures.chip = chip;
  const chip2 = num(info.temp2);
  // temp2 is -1 (or 0) on single-sensor boards.
  if (chip2 !== null && chip2 > 0) temperatures.chip2 = chip2;
  const vr = num(info.vrTemp);
  if (vr !== null && vr > 0) temperatures.vr = vr;
  const fans: Fan[] = [];
  if (info.fanrpm !== undefined || info.fanspeed !== undefined) {
    fans.push({ name: 'fan1', rpm: num(info.fanrpm), percent: num(info.fanspeed) });
  }
  // The second fan: fan2rpm on ESP-Miner boards, fanrpm2/fanspeed2 on NerdQAxe++.
  const rpm2 = num(info.fan2rpm) ?? num(info.fanrpm2);
  if (rpm2 !== null && rpm2 > 0) fans.push({ name: 'fan2', rpm: rpm2, percent: num(info.fanspeed2) });
  return {
    device: device.name,
    driver: 'axeos',
    at: at.toISOString(),
    online: true,
    hashrateGhs: hashrate,
    expectedHashrateGhs: expectedHashrate(info),
    powerW: power,
    efficiencyJth: efficiency(power, hashrate),
    temperatures,
    fans,
    sharesAccepted: num(info.sharesAccepted),
    sharesRejected: num(info.sharesRejected),
    uptimeS: num(info.uptimeSeconds),
    firmwareVersion: typeof info.version === 'string' ? info.version : null,
    paused: typeof info.miningPaused === 'boolean' ? info.miningPaused : null,
    raw: info,
  };
}

export function deviceInfo(device: DeviceSpec, info: AxeosInfo): DeviceInfo {
  return {
    name: device.name,
    driver: 'axeos',
    address: device.address,
    model: boardName(info.boardVersion, info.deviceModel),
    hardware: hardwareOf(info),
    firmwareVersion: info.version ?? null,
    imageProject: 'esp-miner',
    imageFamily: isNerdQAxe(info) ? 'nerdqaxe' : 'bitaxe',
    raw: info,
  };
}

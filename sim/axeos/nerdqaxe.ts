// NerdQAxe++ (shufps/ESP-Miner-NerdQAxePlus, v1.x): the same HTTP server shape as ESP-Miner but
// its own /api/system/info (no boardVersion; deviceModel, asicTemps, a `stratum` object, bestDiff a
// string, `shutdown` when overheated) and a lenient PATCH: each known key is taken when its JSON
// type fits and skipped otherwise — never a 400.
import { round } from '../common/drift.js';
import type { AxeosDevice } from './device.js';
import { suffixString } from './firmware.js';
import { defaultPool } from './settings.js';

export function nerdqaxeInfo(dev: AxeosDevice, t?: number): Record<string, unknown> {
  const tel = dev.telemetry(t);
  const s = dev.settings;
  const b = dev.board;
  const primary = s.pools[0] ?? defaultPool(0, '', '');
  const fallback = s.pools[1] ?? defaultPool(1, '', '');
  const shutdown = s.overheat_mode === 1;
  return {
    asicCount: b.asicCount,
    smallCoreCount: b.smallCoreCount,
    deviceModel: b.deviceModel,
    hostip: '127.0.0.1',
    macAddr: dev.macAddr,
    wifiRSSI: tel.wifiRSSI,
    power: tel.power,
    maxPower: b.maxPower,
    minPower: 5,
    maxVoltage: 13,
    minVoltage: 11,
    current: tel.current,
    currentA: round(tel.current / 1000, 3),
    minCurrentA: 0,
    maxCurrentA: 15,
    temp: tel.temp,
    vrTemp: tel.vrTemp,
    vrTempInt: Math.round(tel.vrTemp),
    hashRateTimestamp: (t ?? Date.now()) - dev.bootAt,
    hashRate: shutdown ? 0 : tel.hashRate,
    hashRate_1m: shutdown ? 0 : tel.hashRate_1m,
    hashRate_10m: shutdown ? 0 : tel.hashRate_10m,
    hashRate_1h: shutdown ? 0 : tel.hashRate_1h,
    hashRate_1d: shutdown ? 0 : tel.hashRate_1h,
    coreVoltage: s.coreVoltage,
    defaultCoreVoltage: b.defaultVoltage,
    coreVoltageActual: tel.coreVoltageActual,
    fanspeed: tel.fanspeed,
    manualFanSpeed: s.manualFanSpeed,
    fanrpm: tel.fanrpm,
    // The NerdQAxe++ has two fans, both on the same duty.
    fanspeed2: tel.fanspeed,
    fanrpm2: Math.round(tel.fanrpm * 0.97),
    fanCount: 2,
    lastpingrtt: tel.responseTime,
    recentpingloss: 0,
    shutdown,
    duplicateHWNonces: 0,
    stratum: {
      poolMode: 0,
      activePoolMode: 0,
      pools: [
        {
          connected: tel.mining,
          poolDiffErr: false,
          accepted: tel.sharesAccepted,
          rejected: tel.sharesRejected,
          bestDiff: dev.bestSessionDiff(),
          poolDifficulty: dev.poolDifficulty(),
        },
      ],
    },
    poolDifficulty: dev.poolDifficulty(),
    foundBlocks: 0,
    totalFoundBlocks: 0,
    sharesAccepted: tel.sharesAccepted,
    sharesRejected: tel.sharesRejected,
    bestDiff: suffixString(s.bestDiff),
    bestSessionDiff: suffixString(dev.bestSessionDiff()),
    asicTemps: Array.from({ length: b.asicCount }, (_, i) => round(tel.temp - i * 0.8, 1)),
    pidTargetTemp: s.temptarget,
    pidP: 6,
    pidI: 0.1,
    pidD: 10,
    hostname: s.hostname,
    ssid: s.ssid,
    stratumURL: primary.stratumURL,
    stratumPort: primary.stratumPort,
    stratumUser: primary.stratumUser,
    stratumEnonceSubscribe: primary.stratumExtranonceSubscribe,
    stratumTLS: primary.stratumTLS > 0,
    fallbackStratumURL: fallback.stratumURL,
    fallbackStratumPort: fallback.stratumPort,
    fallbackStratumUser: fallback.stratumUser,
    fallbackStratumEnonceSubscribe: fallback.stratumExtranonceSubscribe,
    fallbackStratumTLS: fallback.stratumTLS > 0,
    voltage: tel.voltage,
    frequency: s.frequency,
    defaultFrequency: b.defaultFrequency,
    jobInterval: s.jobInterval,
    stratumDifficulty: primary.stratumSuggestedDifficulty,
    overheat_temp: s.overheatTemp,
    flipscreen: s.flipscreen,
    invertscreen: s.invertscreen,
    autoscreenoff: 0,
    invertfanpolarity: s.invertfanpolarity,
    autofanspeed: s.autofanspeed,
    stratum_keep: 0,
    vrFrequency: 500_000,
    defaultVrFrequency: 500_000,
    otp: dev.otp !== undefined,
    ASICModel: b.asicModel,
    uptimeSeconds: tel.uptimeSeconds,
    lastResetReason: dev.resetReason,
    wifiStatus: 'Connected!',
    freeHeap: tel.freeHeap,
    freeHeapInt: 120_000,
    version: dev.version,
    runningPartition: dev.running,
    defaultTheme: 'NerdQAxe++',
  };
}

type Taker = (v: unknown) => boolean;
const isString: Taker = (v) => typeof v === 'string';
const isU16: Taker = (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const isU32: Taker = (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 4294967295;
const isBool: Taker = (v) => typeof v === 'boolean';

/** PATCH /api/system on NerdQAxe: returns the keys taken; nothing is ever refused. */
export function applyNerdqaxePatch(dev: AxeosDevice, body: Record<string, unknown>): string[] {
  const s = dev.settings;
  const taken: string[] = [];
  const take = (key: string, ok: Taker, apply: (v: never) => void) => {
    if (key in body && ok(body[key])) {
      apply(body[key] as never);
      taken.push(key);
    }
  };
  const p0 = () => (s.pools[0] ??= defaultPool(0, '', ''));
  const p1 = () => (s.pools[1] ??= defaultPool(1, '', ''));
  take('ssid', isString, (v: string) => (s.ssid = v));
  take('wifiPass', isString, (v: string) => (s.wifiPass = v));
  take('hostname', isString, (v: string) => (s.hostname = v));
  take('coreVoltage', isU16, (v: number) => v > 0 && (s.coreVoltage = v));
  take('frequency', isU16, (v: number) => v > 0 && (s.frequency = v));
  take('jobInterval', isU16, (v: number) => v > 0 && (s.jobInterval = v));
  take('stratumDifficulty', isU32, (v: number) => (p0().stratumSuggestedDifficulty = v));
  take('flipscreen', isBool, (v: boolean) => (s.flipscreen = v ? 1 : 0));
  take('overheat_temp', isU16, (v: number) => (s.overheatTemp = v));
  take('invertscreen', isBool, (v: boolean) => (s.invertscreen = v ? 1 : 0));
  take('invertfanpolarity', isBool, (v: boolean) => (s.invertfanpolarity = v ? 1 : 0));
  take('autofanspeed', isU16, (v: number) => (s.autofanspeed = v));
  take('manualFanSpeed', isU16, (v: number) => (s.manualFanSpeed = Math.min(100, v)));
  take('pidTargetTemp', isU16, (v: number) => (s.temptarget = v));
  take('stratumURL', isString, (v: string) => (p0().stratumURL = v));
  take('stratumPort', isU16, (v: number) => (p0().stratumPort = v));
  take('stratumUser', isString, (v: string) => (p0().stratumUser = v));
  take('stratumPassword', isString, (v: string) => (p0().stratumPassword = v));
  take('fallbackStratumURL', isString, (v: string) => (p1().stratumURL = v));
  take('fallbackStratumPort', isU16, (v: number) => (p1().stratumPort = v));
  take('fallbackStratumUser', isString, (v: string) => (p1().stratumUser = v));
  take('fallbackStratumPassword', isString, (v: string) => (p1().stratumPassword = v));
  return taken;
}

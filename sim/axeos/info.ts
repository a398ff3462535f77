// GET /api/system/info as each firmware generation answers it. v2.15 matches the spec's SystemInfo
// schema; older generations report the subset they had (v2.4.5 exactly the recorded fixture's keys),
// with bestDiff as a display string like "483k" up to v2.10.
import { round } from '../common/drift.js';
import { suffixString } from './firmware.js';
import { PARTITIONS, type AxeosDevice } from './device.js';
import type { Pool } from './settings.js';
import { nerdqaxeInfo } from './nerdqaxe.js';

const EMPTY_POOL: Pool = {
  id: 0,
  stratumURL: '',
  stratumPort: 3333,
  stratumUser: '',
  stratumPassword: '',
  stratumProtocol: 'SV1',
  stratumSuggestedDifficulty: 1000,
  stratumExtranonceSubscribe: false,
  stratumTLS: 0,
  stratumCert: '',
  stratumDecodeCoinbase: false,
};

export function systemInfo(dev: AxeosDevice, t?: number): Record<string, unknown> {
  if (dev.board.family === 'nerdqaxe') return nerdqaxeInfo(dev, t);
  const f = dev.features;
  const tel = dev.telemetry(t);
  const s = dev.settings;
  const primary = (f.poolsApi ? s.pools[s.primaryPoolIndex] : s.pools[0]) ?? EMPTY_POOL;
  const fallback = (f.poolsApi ? s.pools[s.secondaryPoolIndex] : s.pools[1]) ?? EMPTY_POOL;
  const best = s.bestDiff;
  const bestSession = dev.bestSessionDiff();
  const diff = (n: number) => (f.bestDiffNumber ? n : suffixString(n));
  const board = dev.board;

  const info: Record<string, unknown> = {
    ASICModel: board.asicModel,
    asicCount: board.asicCount,
    autofanspeed: s.autofanspeed,
    bestDiff: diff(best),
    bestSessionDiff: diff(bestSession),
    boardVersion: board.boardVersion,
    coreVoltage: s.coreVoltage,
    coreVoltageActual: tel.coreVoltageActual,
    current: tel.current,
    fallbackStratumPort: fallback.stratumPort,
    fallbackStratumURL: fallback.stratumURL,
    fallbackStratumUser: fallback.stratumUser,
    fanrpm: tel.fanrpm,
    fanspeed: tel.fanspeed,
    flipscreen: s.flipscreen,
    freeHeap: tel.freeHeap,
    frequency: s.frequency,
    hashRate: tel.hashRate,
    hostname: s.hostname,
    idfVersion: 'v5.4.1',
    invertfanpolarity: s.invertfanpolarity,
    invertscreen: s.invertscreen,
    isUsingFallbackStratum: s.useFallbackStratum,
    macAddr: dev.macAddr,
    overheat_mode: s.overheat_mode,
    power: tel.power,
    runningPartition: dev.running,
    sharesAccepted: tel.sharesAccepted,
    sharesRejected: tel.sharesRejected,
    smallCoreCount: board.smallCoreCount,
    ssid: s.ssid,
    stratumDiff: primary.stratumSuggestedDifficulty,
    stratumPort: primary.stratumPort,
    stratumURL: primary.stratumURL,
    stratumUser: primary.stratumUser,
    temp: tel.temp,
    uptimeSeconds: tel.uptimeSeconds,
    version: dev.version,
    voltage: tel.voltage,
    vrTemp: tel.vrTemp,
    wifiStatus: 'Connected!',
  };
  if (!f.extendedInfo) return info;

  delete info.stratumDiff;
  Object.assign(info, {
    hashRate_1m: tel.hashRate_1m,
    hashRate_10m: tel.hashRate_10m,
    hashRate_1h: tel.hashRate_1h,
    expectedHashrate: tel.expectedHashrate,
    errorPercentage: tel.errorPercentage,
    temp2: tel.temp2,
    maxPower: board.maxPower,
    nominalVoltage: board.nominalVoltage / 1000,
    isPSRAMAvailable: 1,
    freeHeapInternal: 120_000,
    freeHeapSpiram: tel.freeHeap - 120_000,
    apEnabled: 0,
    display: s.display,
    rotation: s.rotation,
    displayTimeout: s.displayTimeout,
    statsFrequency: s.statsFrequency,
    minFanSpeed: s.minFanSpeed,
    temptarget: s.temptarget,
    fan2rpm: tel.fan2rpm,
    overclockEnabled: s.overclockEnabled,
    stratumSuggestedDifficulty: primary.stratumSuggestedDifficulty,
    stratumExtranonceSubscribe: primary.stratumExtranonceSubscribe,
    fallbackStratumSuggestedDifficulty: fallback.stratumSuggestedDifficulty,
    fallbackStratumExtranonceSubscribe: fallback.stratumExtranonceSubscribe,
    poolDifficulty: dev.poolDifficulty(),
    poolConnectionInfo: 'IPv4',
    responseTime: tel.responseTime,
    wifiRSSI: tel.wifiRSSI,
    resetReason: dev.resetReason,
    axeOSVersion: dev.version,
    ipv4: '127.0.0.1',
    ipv6: '',
    sharesRejectedReasons: tel.sharesRejected > 0 ? [{ message: 'Above target', count: tel.sharesRejected }] : [],
    blockFound: 0,
  });
  if (f.manualFanSpeedKey) info.manualFanSpeed = s.manualFanSpeed;
  if (f.pause) info.miningPaused = dev.paused;
  if (!f.poolsApi) return info;

  Object.assign(info, {
    pools: dev.settings.pools.filter((p): p is Pool => p !== null).map((p) => ({ ...p, stratumPassword: '*****' })),
    primaryPoolIndex: s.primaryPoolIndex,
    secondaryPoolIndex: s.secondaryPoolIndex,
    stratumProtocol: primary.stratumProtocol,
    stratumV2AuthorityPubkey: '',
    stratumTLS: primary.stratumTLS > 0,
    stratumCert: primary.stratumCert,
    stratumDecodeCoinbase: primary.stratumDecodeCoinbase,
    fallbackStratumTLS: fallback.stratumTLS > 0,
    fallbackStratumCert: fallback.stratumCert,
    fallbackStratumDecodeCoinbase: fallback.stratumDecodeCoinbase,
    cpuUsage: tel.mining ? 38 : 12,
    minFreeHeap: 7_900_000,
    maxAllocHeap: 7_800_000,
    actualFrequency: tel.mining ? round(s.frequency * 0.998, 2) : 0,
    blockHeight: 925_000,
    scriptsig: '',
    networkDifficulty: 126_271_255_279_306.98,
    blockSignals: [],
    coinbaseValueTotalSatoshis: 314_000_000,
    coinbaseValueUserSatoshis: 314_000_000,
    statsLimit: 720,
    useCustomWWW: 0,
    showNewBlock: false,
    hashrateMonitor: {
      asics: Array.from({ length: board.asicCount }, () => {
        const total = round(tel.hashRate / board.asicCount, 2);
        return { total, domains: [0, 1, 2, 3].map(() => round(total / 4, 2)), errorCount: 0 };
      }),
    },
    partitions: PARTITIONS.map((label) => {
      const p = dev.partitions[label];
      return {
        label,
        version: p?.version ?? null,
        compileDate: p?.date ?? null,
        compileTime: p?.time ?? null,
        isCurrent: label === dev.running,
        isFactory: label === 'factory',
        usagePercent: p ? Math.min(100, Math.round((p.size / 0x400000) * 100)) : null,
      };
    }),
  });
  return info;
}

/** GET /api/system/asic (v2.7+). */
export function asicInfo(dev: AxeosDevice): Record<string, unknown> {
  const b = dev.board;
  if (b.family === 'nerdqaxe') {
    return {
      ASICModel: b.asicModel,
      deviceModel: b.deviceModel,
      asicCount: b.asicCount,
      defaultFrequency: b.defaultFrequency,
      defaultVoltage: b.defaultVoltage,
      absMaxFrequency: 800,
      absMaxVoltage: 1400,
      ecoFrequency: 490,
      ecoVoltage: 1100,
      swarmColor: b.swarmColor,
      frequencyOptions: b.frequencyOptions,
      voltageOptions: b.voltageOptions,
    };
  }
  return {
    ASICModel: b.asicModel,
    deviceModel: b.deviceModel,
    swarmColor: b.swarmColor,
    asicCount: b.asicCount,
    defaultFrequency: b.defaultFrequency,
    frequencyOptions: b.frequencyOptions,
    defaultVoltage: b.defaultVoltage,
    voltageOptions: b.voltageOptions,
  };
}

const STAT_COLUMNS = [
  'hashrate',
  'hashrate_1m',
  'hashrate_10m',
  'hashrate_1h',
  'errorPercentage',
  'asicTemp',
  'vrTemp',
  'asicVoltage',
  'voltage',
  'power',
  'current',
  'fanSpeed',
  'fanRpm',
  'fan2Rpm',
  'wifiRssi',
  'freeHeap',
  'responseTime',
] as const;

/**
 * GET /api/system/statistics: one sample every statsFrequency seconds since boot (at most statsLimit),
 * recomputed from the telemetry model rather than stored.
 */
export function statistics(dev: AxeosDevice, columns: string[] | undefined, now: number): Record<string, unknown> {
  const chosen = columns?.filter((c) => (STAT_COLUMNS as readonly string[]).includes(c));
  const labels = chosen && chosen.length ? STAT_COLUMNS.filter((c) => chosen.includes(c)) : [...STAT_COLUMNS];
  const every = Math.max(1, dev.settings.statsFrequency || 120) * 1000;
  const rows: number[][] = [];
  for (let ts = dev.bootAt + every; ts <= now && rows.length < 720; ts += every) {
    const tel = dev.telemetry(ts);
    const byLabel: Record<string, number> = {
      hashrate: tel.hashRate,
      hashrate_1m: tel.hashRate_1m,
      hashrate_10m: tel.hashRate_10m,
      hashrate_1h: tel.hashRate_1h,
      errorPercentage: tel.errorPercentage,
      asicTemp: tel.temp,
      vrTemp: tel.vrTemp,
      asicVoltage: tel.coreVoltageActual,
      voltage: tel.voltage,
      power: tel.power,
      current: tel.current,
      fanSpeed: tel.fanspeed,
      fanRpm: tel.fanrpm,
      fan2Rpm: tel.fan2rpm,
      wifiRssi: tel.wifiRSSI,
      freeHeap: tel.freeHeap,
      responseTime: tel.responseTime,
    };
    rows.push([...labels.map((l) => byLabel[l]!), ts - dev.bootAt]);
  }
  return { currentTimestamp: now - dev.bootAt, labels: [...labels, 'timestamp'], statistics: rows };
}

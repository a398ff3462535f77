// Firmware generations: which AxeOS behaviours a version has. The simulator follows the version
// that is *running*, so an OTA to another generation changes the API the way a real update does.

export interface FirmwareFeatures {
  /** Parsed version, [major, minor, patch]; unparseable versions count as the newest. */
  semver: [number, number, number];
  /** bestDiff/bestSessionDiff are numbers from v2.11 (strings like "483k" before; always on NerdQAxe). */
  bestDiffNumber: boolean;
  /** POST /api/system/restart answers JSON {message} from v2.13 (plain text before). */
  restartJson: boolean;
  /** GET /api/system/asic from v2.7. */
  asicEndpoint: boolean;
  /** GET /api/system/statistics from v2.8. */
  statistics: boolean;
  /** The richer info of the v2.6+ generation (hashRate_1m, expectedHashrate, display, …). */
  extendedInfo: boolean;
  /** The manual fan speed is PATCHed and reported as `manualFanSpeed` from v2.11 (`fanspeed` before). */
  manualFanSpeedKey: boolean;
  /** Unknown /api/* routes answer 404 {"error":"unknown route"} from v2.9 (a redirect to / before). */
  apiNotFoundJson: boolean;
  /** `useFallbackStratum` (force the fallback pool) is honoured from v2.11; ignored before and on NerdQAxe. */
  fallbackSwitch: boolean;
  /** POST /api/system/pause|resume and miningPaused from v2.14. */
  pause: boolean;
  /** pools[] in info and PATCH, PUT /api/system/pools/{i}, old stratum keys ignored, partitions[], boot: v2.15. */
  poolsApi: boolean;
}

const NEWEST: [number, number, number] = [99, 0, 0];

export function parseVersion(version: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) return NEWEST;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function atLeast(v: [number, number, number], major: number, minor: number): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

export function featuresOf(version: string, family: 'bitaxe' | 'nerdqaxe'): FirmwareFeatures {
  const v = parseVersion(version);
  if (family === 'nerdqaxe') {
    // NerdQAxe firmware (v1.x, shufps/ESP-Miner-NerdQAxePlus) is a fork with its own API: stratum
    // keys, bestDiff a string, a plain-text restart reply, manualFanSpeed, history inside the info
    // instead of /statistics, no pause (see nerdqaxe.ts).
    return {
      semver: v,
      bestDiffNumber: false,
      restartJson: false,
      asicEndpoint: true,
      statistics: false,
      extendedInfo: true,
      manualFanSpeedKey: true,
      apiNotFoundJson: false,
      fallbackSwitch: false,
      pause: false,
      poolsApi: false,
    };
  }
  return {
    semver: v,
    bestDiffNumber: atLeast(v, 2, 11),
    restartJson: atLeast(v, 2, 13),
    asicEndpoint: atLeast(v, 2, 7),
    statistics: atLeast(v, 2, 8),
    extendedInfo: atLeast(v, 2, 6),
    manualFanSpeedKey: atLeast(v, 2, 11),
    apiNotFoundJson: atLeast(v, 2, 9),
    fallbackSwitch: atLeast(v, 2, 11),
    pause: atLeast(v, 2, 14),
    poolsApi: atLeast(v, 2, 15),
  };
}

/** ESP-Miner's suffix_string: 483000 → "483k", 4021000 → "4.02M". */
export function suffixString(n: number): string {
  const units = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  if (i === 0) return String(Math.round(v));
  const text = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${text.replace(/\.?0+$/, '')}${units[i]}`;
}

// AxeOS settings (what ESP-Miner keeps in NVS) and PATCH /api/system validation, done the way the
// firmware does it: every known key is checked first; one bad value → 400 and nothing is saved;
// keys the running firmware does not know are ignored (from v2.15 that includes the old
// stratumURL/stratumPort/fallback* keys, replaced by pools[]; from v2.11 `fanspeed`, renamed
// `manualFanSpeed`; before v2.11 `useFallbackStratum`). v2.15's pools[] updates only the slots it
// lists and refuses an empty stratumUser.
import type { Board } from './boards.js';
import type { FirmwareFeatures } from './firmware.js';

export interface Pool {
  id: number;
  stratumURL: string;
  stratumPort: number;
  stratumUser: string;
  stratumPassword: string;
  stratumProtocol: 'SV1' | 'SV2';
  stratumSuggestedDifficulty: number;
  stratumExtranonceSubscribe: boolean;
  stratumTLS: number;
  stratumCert: string;
  stratumDecodeCoinbase: boolean;
}

export interface Settings {
  hostname: string;
  ssid: string;
  wifiPass: string;
  /** Up to 8 slots (v2.15 pools API); slots 0 and 1 double as the old primary/fallback keys. */
  pools: (Pool | null)[];
  primaryPoolIndex: number;
  secondaryPoolIndex: number;
  useFallbackStratum: number;
  frequency: number;
  coreVoltage: number;
  autofanspeed: number;
  manualFanSpeed: number;
  minFanSpeed: number;
  temptarget: number;
  overheat_mode: number;
  overclockEnabled: number;
  invertscreen: number;
  flipscreen: number;
  invertfanpolarity: number;
  rotation: number;
  displayTimeout: number;
  statsFrequency: number;
  display: string;
  /** Best share difficulty ever (ESP-Miner keeps it in NVS across reboots). */
  bestDiff: number;
  /** NerdQAxe: chip temperature that shuts the ASICs down (`overheat_temp`). */
  overheatTemp: number;
  /** NerdQAxe: ms between jobs sent to the ASICs. */
  jobInterval: number;
}

export function defaultPool(id: number, url: string, user: string): Pool {
  return {
    id,
    stratumURL: url,
    stratumPort: 3333,
    stratumUser: user,
    stratumPassword: 'x',
    stratumProtocol: 'SV1',
    stratumSuggestedDifficulty: 1000,
    stratumExtranonceSubscribe: false,
    stratumTLS: 0,
    stratumCert: '',
    stratumDecodeCoinbase: false,
  };
}

export function defaultSettings(board: Board): Settings {
  const pools: (Pool | null)[] = Array.from({ length: 8 }, () => null);
  pools[0] = defaultPool(0, 'public-pool.io', 'bc1qsimulatedminer.bitaxe');
  pools[1] = defaultPool(1, 'solo.ckpool.org', 'bc1qsimulatedminer.bitaxe');
  return {
    hostname: board.hostname,
    ssid: 'lab',
    wifiPass: 'password1',
    pools,
    primaryPoolIndex: 0,
    secondaryPoolIndex: 1,
    useFallbackStratum: 0,
    frequency: board.defaultFrequency,
    coreVoltage: board.defaultVoltage,
    autofanspeed: 1,
    manualFanSpeed: 100,
    minFanSpeed: 25,
    temptarget: 60,
    overheat_mode: 0,
    overclockEnabled: 0,
    invertscreen: 0,
    flipscreen: 1,
    invertfanpolarity: 1,
    rotation: 0,
    displayTimeout: -1,
    statsFrequency: 120,
    display: 'SSD1306 (128x32)',
    bestDiff: 0,
    overheatTemp: 70,
    jobInterval: 1200,
  };
}

type Kind = 'str' | 'int' | 'bool';
interface Rule {
  kind: Kind;
  min: number;
  max: number;
  /** For strings min/max bound the length. */
  oneOf?: number[];
  pattern?: RegExp;
  apply(s: Settings, v: unknown): void;
}

const str = (min: number, max: number, apply: Rule['apply'], pattern?: RegExp): Rule => ({
  kind: 'str',
  min,
  max,
  apply,
  pattern,
});
const int = (min: number, max: number, apply: Rule['apply'], oneOf?: number[]): Rule => ({
  kind: 'int',
  min,
  max,
  apply,
  oneOf,
});
const bool = (apply: Rule['apply']): Rule => ({ kind: 'bool', min: 0, max: 1, apply });
const asNum = (v: unknown) => (v === true ? 1 : v === false ? 0 : Number(v));

function slot(s: Settings, i: number): Pool {
  s.pools[i] ??= defaultPool(i, '', '');
  return s.pools[i]!;
}

const COMMON: Record<string, Rule> = {
  hostname: str(1, 32, (s, v) => (s.hostname = String(v)), /^[a-zA-Z0-9-]+$/),
  ssid: str(1, 32, (s, v) => (s.ssid = String(v))),
  wifiPass: str(8, 63, (s, v) => (s.wifiPass = String(v))),
  frequency: int(1, 1000, (s, v) => (s.frequency = Number(v))),
  coreVoltage: int(1, 1800, (s, v) => (s.coreVoltage = Number(v))),
  autofanspeed: bool((s, v) => (s.autofanspeed = asNum(v))),
  minFanSpeed: int(0, 100, (s, v) => (s.minFanSpeed = Number(v))),
  temptarget: int(0, 100, (s, v) => (s.temptarget = Number(v))),
  overheat_mode: int(0, 0, (s, v) => (s.overheat_mode = Number(v))),
  overclockEnabled: bool((s, v) => (s.overclockEnabled = asNum(v))),
  invertscreen: bool((s, v) => (s.invertscreen = asNum(v))),
  flipscreen: bool((s, v) => (s.flipscreen = asNum(v))),
  invertfanpolarity: bool((s, v) => (s.invertfanpolarity = asNum(v))),
  rotation: int(0, 270, (s, v) => (s.rotation = Number(v)), [0, 90, 180, 270]),
  displayTimeout: int(-1, 71582, (s, v) => (s.displayTimeout = Number(v))),
  statsFrequency: int(0, 65535, (s, v) => (s.statsFrequency = Number(v))),
  display: str(1, 32, (s, v) => (s.display = String(v))),
};

const FALLBACK_SWITCH: Record<string, Rule> = { useFallbackStratum: bool((s, v) => (s.useFallbackStratum = asNum(v))) };

/** The pre-v2.15 stratum keys, stored in pool slots 0 (primary) and 1 (fallback). */
const OLD_STRATUM: Record<string, Rule> = {
  stratumURL: str(0, 128, (s, v) => (slot(s, 0).stratumURL = String(v))),
  stratumPort: int(1, 65535, (s, v) => (slot(s, 0).stratumPort = Number(v))),
  stratumUser: str(0, 128, (s, v) => (slot(s, 0).stratumUser = String(v))),
  stratumPassword: str(0, 64, (s, v) => (slot(s, 0).stratumPassword = String(v))),
  stratumSuggestedDifficulty: int(0, 4294967295, (s, v) => (slot(s, 0).stratumSuggestedDifficulty = Number(v))),
  fallbackStratumURL: str(0, 128, (s, v) => (slot(s, 1).stratumURL = String(v))),
  fallbackStratumPort: int(1, 65535, (s, v) => (slot(s, 1).stratumPort = Number(v))),
  fallbackStratumUser: str(0, 128, (s, v) => (slot(s, 1).stratumUser = String(v))),
  fallbackStratumPassword: str(0, 64, (s, v) => (slot(s, 1).stratumPassword = String(v))),
  fallbackStratumSuggestedDifficulty: int(0, 4294967295, (s, v) => (slot(s, 1).stratumSuggestedDifficulty = Number(v))),
};

/** The manual fan speed's REST name: `fanspeed` up to v2.10, `manualFanSpeed` from v2.11. */
const FAN_OLD: Record<string, Rule> = { fanspeed: int(0, 100, (s, v) => (s.manualFanSpeed = Number(v))) };
const FAN_NEW: Record<string, Rule> = { manualFanSpeed: int(0, 100, (s, v) => (s.manualFanSpeed = Number(v))) };

const POOL_INDEX: Record<string, Rule> = {
  primaryPoolIndex: int(0, 7, (s, v) => (s.primaryPoolIndex = Number(v))),
  secondaryPoolIndex: int(0, 7, (s, v) => (s.secondaryPoolIndex = Number(v))),
};

function checkValue(key: string, rule: Rule, v: unknown): string | undefined {
  if (rule.kind === 'str') {
    if (typeof v !== 'string') return `${key}: expected a string`;
    if (v.length < rule.min || v.length > rule.max) return `${key}: length must be ${rule.min}..${rule.max}`;
    if (rule.pattern && !rule.pattern.test(v)) return `${key}: invalid characters`;
    return undefined;
  }
  if (rule.kind === 'bool' && typeof v === 'boolean') return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${key}: expected a number`;
  if (!Number.isInteger(v)) return `${key}: expected an integer`;
  if (v < rule.min || v > rule.max) return `${key}: out of range ${rule.min}..${rule.max}`;
  if (rule.oneOf && !rule.oneOf.includes(v)) return `${key}: must be one of ${rule.oneOf.join(', ')}`;
  return undefined;
}

const POOL_FIELDS: Record<string, Rule> = {
  stratumURL: str(1, 128, (p, v) => ((p as unknown as Pool).stratumURL = String(v))),
  stratumPort: int(1, 65535, (p, v) => ((p as unknown as Pool).stratumPort = Number(v))),
  // v2.15 answers 400 to an empty user.
  stratumUser: str(1, 128, (p, v) => ((p as unknown as Pool).stratumUser = String(v))),
  stratumPassword: str(0, 64, (p, v) => ((p as unknown as Pool).stratumPassword = String(v))),
  stratumSuggestedDifficulty: int(
    0,
    4294967295,
    (p, v) => ((p as unknown as Pool).stratumSuggestedDifficulty = Number(v)),
  ),
  // A number 0..2 (0 off, 1 on, 2 verify); a boolean is refused.
  stratumTLS: int(0, 2, (p, v) => ((p as unknown as Pool).stratumTLS = Number(v))),
  stratumCert: str(0, 4096, (p, v) => ((p as unknown as Pool).stratumCert = String(v))),
};

/** Validates one Pool object (PATCH pools[] item or PUT /api/system/pools/{i}); returns the pool or errors. */
export function parsePool(body: unknown, id: number): { pool?: Pool; errors: string[] } {
  const errors: string[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { errors: [`pools[${id}]: expected an object`] };
  const o = body as Record<string, unknown>;
  for (const req of ['stratumURL', 'stratumPort', 'stratumUser']) {
    if (!(req in o)) errors.push(`pools[${id}].${req}: required`);
  }
  const pool = defaultPool(id, '', '');
  for (const [k, rule] of Object.entries(POOL_FIELDS)) {
    if (!(k in o)) continue;
    const e = checkValue(`pools[${id}].${k}`, rule, o[k]);
    if (e) errors.push(e);
    else rule.apply(pool as unknown as Settings, o[k]);
  }
  for (const k of ['stratumExtranonceSubscribe', 'stratumDecodeCoinbase'] as const) {
    if (!(k in o)) continue;
    if (typeof o[k] !== 'boolean') errors.push(`pools[${id}].${k}: expected a boolean`);
    else pool[k] = o[k] as boolean;
  }
  if ('stratumProtocol' in o) {
    if (o.stratumProtocol !== 'SV1' && o.stratumProtocol !== 'SV2')
      errors.push(`pools[${id}].stratumProtocol: SV1 or SV2`);
    else pool.stratumProtocol = o.stratumProtocol;
  }
  return errors.length ? { errors } : { pool, errors };
}

export interface PatchResult {
  ok: boolean;
  errors: string[];
  /** Keys that took effect (ignored keys are not listed). */
  applied: string[];
}

/** Validates a PATCH body against the running firmware's settings; applies it only when all is valid. */
export function applyPatch(settings: Settings, body: unknown, features: FirmwareFeatures): PatchResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: ['the body must be a JSON object'], applied: [] };
  }
  const o = body as Record<string, unknown>;
  const rules: Record<string, Rule> = {
    ...COMMON,
    ...(features.manualFanSpeedKey ? FAN_NEW : FAN_OLD),
    ...(features.poolsApi ? POOL_INDEX : OLD_STRATUM),
    ...(features.fallbackSwitch ? FALLBACK_SWITCH : {}),
  };
  const errors: string[] = [];
  const applied: string[] = [];
  const changes: (() => void)[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    if (!(key in o)) continue;
    const e = checkValue(key, rule, o[key]);
    if (e) errors.push(e);
    else {
      applied.push(key);
      changes.push(() => rule.apply(settings, o[key]));
    }
  }
  if (features.poolsApi && 'pools' in o) {
    if (!Array.isArray(o.pools) || o.pools.length > 8) errors.push('pools: expected an array of at most 8 pools');
    else {
      const parsed = o.pools.map((p, i) => parsePool(p, typeof (p as Pool)?.id === 'number' ? (p as Pool).id : i));
      for (const r of parsed) errors.push(...r.errors);
      applied.push('pools');
      // Only the slots listed change; the others keep their pools.
      changes.push(() => {
        parsed.forEach((r, i) => {
          const id = r.pool!.id >= 0 && r.pool!.id < 8 ? r.pool!.id : i;
          settings.pools[id] = { ...r.pool!, id };
        });
      });
    }
  }
  if (errors.length) return { ok: false, errors, applied: [] };
  for (const c of changes) c();
  return { ok: true, errors, applied };
}

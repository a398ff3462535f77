// The simulated NMMiner (ESP32 lottery miner): its configuration, its telemetry as the display
// strings the firmware broadcasts (SI suffixes, key case depending on the build), and how it
// takes a config push. No transport here (see index.ts).
import { drift, round, seedOf, smoothNoise } from '../common/drift.js';
import type { FaultMap } from '../common/faults.js';

export interface NmminerConfig {
  WiFiSSID: string;
  WiFiPWD: string;
  PrimaryPool: string;
  PrimaryPassword: string;
  PrimaryAddress: string;
  SecondaryPool: string;
  SecondaryPassword: string;
  SecondaryAddress: string;
  Timezone: number;
  UIRefresh: number;
  ScreenTimeout: number;
  Brightness: number;
  SaveUptime: boolean;
  LedEnable: boolean;
  RotateScreen: boolean;
  BTCPrice: boolean;
  AutoBrightness: boolean;
}

const NUMBER_KEYS = ['Timezone', 'UIRefresh', 'ScreenTimeout', 'Brightness'] as const;
const BOOL_KEYS = ['SaveUptime', 'LedEnable', 'RotateScreen', 'BTCPrice', 'AutoBrightness'] as const;

/**
 * upper: the v0.3 builds (`IP`, `HashRate":"113.13K"`); lower: newer builds (`ip`, `"1.0154MH/s"`);
 * nmaxe: NMAxe firmware (`ip`, `"1.0154MH/s"`, `Share` "rej/acc/pct%", `Uptime` "session\rever").
 */
export type KeyCase = 'upper' | 'lower' | 'nmaxe';

export interface NmminerDeviceOptions {
  ip: string;
  keyCase?: KeyCase;
  faults?: FaultMap;
  now?: () => number;
  seed?: string;
  boardType?: string;
  /** Keep fields a push leaves out (lenient); by default they are blanked, as the firmware does. */
  lenientPush?: boolean;
}

const CONFIG_KEYS: (keyof NmminerConfig)[] = [
  'WiFiSSID',
  'WiFiPWD',
  'PrimaryPool',
  'PrimaryPassword',
  'PrimaryAddress',
  'SecondaryPool',
  'SecondaryPassword',
  'SecondaryAddress',
  ...NUMBER_KEYS,
  ...BOOL_KEYS,
];
const POOL_URL = /^stratum\+tcp:\/\/[^\s:/]+:\d{1,5}$/;
const OVERHEAT_TEMP = 85;

/** 113130 → "113.13K"; with unit "H/s" (newer builds) 1015400 → "1.0154MH/s". */
export function siString(n: number, digits: number, unit = ''): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(digits)}${units[i]}${unit}`;
}

function uptimeString(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const p = (x: number) => String(x).padStart(2, '0');
  return `${p(d)}d ${p(h)}:${p(m)}:${p(s)}`;
}

export class NmminerDevice {
  readonly ip: string;
  readonly keyCase: KeyCase;
  readonly faults: FaultMap;
  readonly boardType: string;
  readonly lenientPush: boolean;
  /** Session start of the lifetime uptime NMAxe reports beside the session's. */
  private readonly firstBootAt: number;
  config: NmminerConfig;
  bootAt: number;
  bootCount = 0;
  /** Pushes applied (a repeat of the same config changes nothing and is not counted). */
  applied = 0;
  private readonly now: () => number;
  private readonly seed: number;
  private overheatSince: number | undefined;

  constructor(opts: NmminerDeviceOptions) {
    this.ip = opts.ip;
    this.keyCase = opts.keyCase ?? 'upper';
    this.faults = opts.faults ?? new Map();
    this.now = opts.now ?? Date.now;
    this.seed = seedOf(opts.seed ?? opts.ip);
    this.boardType = opts.boardType ?? (opts.keyCase === 'nmaxe' ? 'NMAxe' : 'NMLotto');
    this.lenientPush = opts.lenientPush ?? false;
    this.config = {
      WiFiSSID: 'lab',
      WiFiPWD: 'password1',
      PrimaryPool: 'stratum+tcp://public-pool.io:21496',
      PrimaryPassword: 'x',
      PrimaryAddress: 'bc1qsimulated.nmminer',
      SecondaryPool: 'stratum+tcp://solo.ckpool.org:3333',
      SecondaryPassword: 'x',
      SecondaryAddress: 'bc1qsimulated.nmminer',
      Timezone: 0,
      UIRefresh: 3,
      ScreenTimeout: 30,
      Brightness: 100,
      SaveUptime: true,
      LedEnable: true,
      RotateScreen: false,
      BTCPrice: false,
      AutoBrightness: true,
    };
    this.bootAt = this.now();
    this.firstBootAt = this.bootAt - 3 * 86400_000;
    if (this.faults.has('overheat')) this.overheatSince = this.bootAt;
  }

  /** Off the network: a push blanked its Wi-Fi SSID, so it sends nothing until it is reflashed. */
  get offNetwork(): boolean {
    return this.config.WiFiSSID === '';
  }

  get version(): string {
    return this.keyCase === 'upper' ? 'v0.3.01' : this.keyCase === 'nmaxe' ? 'v1.2.5' : 'v1.0.2';
  }

  uptime(t = this.now()): number {
    return Math.max(0, Math.floor((t - this.bootAt) / 1000));
  }

  reboot(): void {
    this.bootAt = this.now();
    this.bootCount += 1;
    if (this.faults.has('overheat')) this.overheatSince = this.bootAt;
  }

  setOverheat(on: boolean, rate = 1): void {
    if (on) {
      this.faults.set('overheat', rate);
      this.overheatSince ??= this.now();
    } else {
      this.faults.delete('overheat');
      this.overheatSince = undefined;
    }
  }

  temp(t = this.now()): number {
    let temp = drift(48.5, 0.03, this.seed + 1, t);
    if (this.overheatSince !== undefined)
      temp += ((this.faults.get('overheat') || 1) * (t - this.overheatSince)) / 1000;
    return temp;
  }

  hashrate(t = this.now()): number {
    if (this.temp(t) >= OVERHEAT_TEMP) return 0; // the firmware throttles the hashing task
    const base = this.keyCase === 'upper' ? 113_130 : 1_015_400;
    return drift(base, 0.03, this.seed + 2, t);
  }

  shares(t = this.now()): { accepted: number; rejected: number } {
    const accepted = Math.floor(this.uptime(t) / 26);
    return { accepted, rejected: Math.floor(accepted / 140) };
  }

  /** The telemetry datagram. */
  telemetry(t = this.now()): Record<string, unknown> {
    const hr = this.hashrate(t);
    const { accepted, rejected } = this.shares(t);
    const pool = this.config.PrimaryPool.replace(/^stratum\+tcp:\/\//, '');
    const upper = {
      IP: this.ip,
      BoardType: this.boardType,
      HashRate: this.keyCase === 'upper' ? siString(hr, 2) : siString(hr, 4, 'H/s'),
      Share: `${rejected}/${accepted}`,
      NetDiff: siString(89.47e12 * (1 + 0.001 * smoothNoise(this.seed + 3, t, 600_000)), 2),
      PoolDiff: '0.001',
      LastDiff:
        accepted > 0 ? String(round(0.001 + 0.004 * Math.abs(smoothNoise(this.seed + 6, accepted, 1)), 4)) : '0',
      BestDiff: siString(4021 * (1 + this.uptime(t) / 60), 3),
      Valid: 0,
      Progress: round((this.uptime(t) % 600) / 600, 3),
      Temp: round(this.temp(t), 1),
      RSSI: Math.round(-62 + 4 * smoothNoise(this.seed + 4, t, 20_000)),
      FreeHeap: round(8203.9 + 20 * smoothNoise(this.seed + 5, t, 15_000), 1),
      Uptime: uptimeString(this.uptime(t)),
      Version: this.version,
      PoolInUse: pool,
    };
    if (this.keyCase === 'nmaxe') {
      const pct = accepted + rejected > 0 ? ((rejected / (accepted + rejected)) * 100).toFixed(2) : '0.00';
      Object.assign(upper, {
        HashRate: siString(hr, 4, 'H/s'),
        Share: `${rejected}/${accepted}/${pct}%`,
        Uptime: `${uptimeString(this.uptime(t))}\r${uptimeString(Math.floor((t - this.firstBootAt) / 1000))}`,
      });
      const { IP, ...rest } = upper;
      return { ip: IP, ...rest };
    }
    return this.keyCase === 'upper'
      ? upper
      : Object.fromEntries(Object.entries(upper).map(([k, v]) => [k.toLowerCase(), v]));
  }

  /** The config report (passwords are never reported). */
  report(): Record<string, unknown> {
    const { WiFiPWD: _w, PrimaryPassword: _p, SecondaryPassword: _s, ...rest } = this.config;
    const upper = { IP: this.ip, ...rest, Version: this.version };
    return this.keyCase !== 'lower'
      ? upper
      : Object.fromEntries(Object.entries(upper).map(([k, v]) => [k.toLowerCase(), v]));
  }

  /**
   * A config push: ignored unless its IP is 0.0.0.0 or ours and it is well formed; keys may come in
   * either case; text fields it leaves out are blanked (unless lenient) — a push without WiFiSSID
   * takes the device off the network; a push equal to the current config changes nothing.
   */
  applyPush(body: unknown): { accepted: boolean; changed: boolean; reason?: string } {
    if (typeof body !== 'object' || body === null)
      return { accepted: false, changed: false, reason: 'not a JSON object' };
    const o = Object.fromEntries(Object.entries(body as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
    const ip = o.ip;
    if (ip !== '0.0.0.0' && ip !== this.ip) return { accepted: false, changed: false, reason: `for ${String(ip)}` };
    const next: NmminerConfig = { ...this.config };
    for (const key of CONFIG_KEYS) {
      const v = o[key.toLowerCase()];
      if (v === undefined) {
        if (!this.lenientPush && typeof next[key] === 'string') (next[key] as string) = '';
        continue;
      }
      if ((NUMBER_KEYS as readonly string[]).includes(key)) {
        if (typeof v !== 'number' || !Number.isFinite(v))
          return { accepted: false, changed: false, reason: `${key} must be a number` };
        (next[key] as number) = v;
      } else if ((BOOL_KEYS as readonly string[]).includes(key)) {
        if (typeof v !== 'boolean') return { accepted: false, changed: false, reason: `${key} must be true or false` };
        (next[key] as boolean) = v;
      } else {
        if (typeof v !== 'string') return { accepted: false, changed: false, reason: `${key} must be a string` };
        (next[key] as string) = v;
      }
    }
    for (const key of ['PrimaryPool', 'SecondaryPool'] as const) {
      if (next[key] !== '' && !POOL_URL.test(next[key]))
        return { accepted: false, changed: false, reason: `${key} must be stratum+tcp://host:port` };
    }
    const changed = CONFIG_KEYS.some((k) => next[k] !== this.config[k]);
    if (changed) {
      this.config = next;
      this.applied += 1;
    }
    return { accepted: true, changed };
  }
}

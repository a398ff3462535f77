// The simulated Avalon: pools (what runs now and what setpool saved for the next boot), power
// level, soft on/off, reboots, faults and telemetry computed from the clock (no timers while idle).
import { drift, seedOf, smoothNoise } from '../common/drift.js';
import type { FaultMap, FaultName } from '../common/faults.js';
import { summaryKeyFor, type AvalonModel } from './models.js';

export interface AvalonPool {
  url: string;
  user: string;
  pass: string;
  enabled: boolean;
}

export type CgPower = 'up' | 'rebooting';

export interface CgminerDeviceOptions {
  model: AvalonModel;
  /** Firmware build, e.g. 25021401_56abae7 (default: the model's). */
  firmware?: string;
  faults?: FaultMap;
  now?: () => number;
  rebootDelayMs?: number;
  bootMs?: number;
  seed?: string;
  /** Web login that setpool checks (default the model's: admin/admin on the 3S, root/sha256 on the Nano 3). */
  webUser?: string;
  webPass?: string;
  /** A 3S build whose command table lacks softoff (refused as an unknown option). */
  noSoftoff?: boolean;
  /** softon closes the connection without a reply (it still works), as some builds do. */
  softonSilent?: boolean;
}

const SHARE_DIFF = 40_000;

export class CgminerDevice {
  readonly model: AvalonModel;
  readonly firmware: string;
  readonly faults: FaultMap;
  readonly webUser: string;
  readonly webPass: string;
  readonly noSoftoff: boolean;
  readonly softonSilent: boolean;
  /** Slots 0..2 as running now. */
  pools: AvalonPool[];
  /** Slots as saved by setpool: they take effect at the next boot. */
  savedPools: AvalonPool[];
  /** Pool ids in priority order; the first enabled one is mined on. */
  priority = [0, 1, 2];
  current = 0;
  level: number;
  fanSetting = -1;
  targetTemp: number;
  softOff = false;
  softOffTime = 0;
  softOnTime = 0;
  power: CgPower = 'up';
  bootAt: number;
  bootCount = 0;
  private readonly now: () => number;
  private readonly rebootDelayMs: number;
  private readonly bootMs: number;
  private readonly seed: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private hashes = 0;
  private accruedAt: number;
  private overheatSince: number | undefined;
  private closed = false;

  constructor(opts: CgminerDeviceOptions) {
    this.model = opts.model;
    this.firmware = opts.firmware ?? opts.model.defaultFirmware;
    this.faults = opts.faults ?? new Map();
    this.now = opts.now ?? Date.now;
    this.rebootDelayMs = opts.rebootDelayMs ?? 1000;
    this.bootMs = opts.bootMs ?? 3000;
    this.seed = seedOf(opts.seed ?? opts.model.id);
    this.webUser = opts.webUser ?? opts.model.webUser;
    this.webPass = opts.webPass ?? opts.model.webPass;
    this.noSoftoff = opts.noSoftoff ?? false;
    this.softonSilent = opts.softonSilent ?? false;
    this.level = opts.model.defaultLevel;
    this.targetTemp = opts.model.levels[this.level]!.tarT;
    this.pools = [
      { url: 'stratum+tcp://public-pool.io:21496', user: 'bc1qsimulated.nano', pass: 'x', enabled: true },
      { url: 'stratum+tcp://solo.ckpool.org:3333', user: 'bc1qsimulated.nano', pass: 'x', enabled: true },
      { url: '', user: '', pass: '', enabled: true },
    ];
    this.savedPools = this.pools.map((p) => ({ ...p }));
    this.bootAt = this.now();
    this.accruedAt = this.bootAt;
    if (this.faults.has('overheat')) this.overheatSince = this.bootAt;
    this.armRebootLoop();
  }

  /** The estats key this firmware uses. */
  get summaryKey(): 'MM ID0' | 'MM ID0:Summary' {
    return summaryKeyFor(this.firmware);
  }

  t(): number {
    return this.now();
  }

  elapsed(t = this.now()): number {
    return Math.max(0, Math.floor((t - this.bootAt) / 1000));
  }

  setFault(name: FaultName, value: number): void {
    this.settle();
    this.faults.set(name, value);
    if (name === 'overheat' && this.overheatSince === undefined) this.overheatSince = this.now();
    if (name === 'reboot-loop') this.armRebootLoop();
  }

  clearFault(name: FaultName): void {
    this.settle();
    this.faults.delete(name);
    if (name === 'overheat') this.overheatSince = undefined;
  }

  // ---- telemetry ----------------------------------------------------------------------------

  /** Hashing as commanded (powered, soft-on, a pool to mine on), before overheat protection. */
  private running(): boolean {
    return this.power === 'up' && !this.softOff && this.activePool() !== undefined;
  }

  private overheated(t: number): boolean {
    return (
      this.overheatSince !== undefined &&
      this.faults.has('overheat') &&
      this.rawTempMax(t, this.running()) >= this.model.overheatTmax
    );
  }

  hashing(t = this.now()): boolean {
    return this.running() && !this.overheated(t);
  }

  settle(t = this.now()): void {
    if (t <= this.accruedAt) return;
    if (this.hashing(this.accruedAt))
      this.hashes += this.model.levels[this.level]!.ghs * 0.99 * 1e9 * ((t - this.accruedAt) / 1000);
    this.accruedAt = t;
  }

  activePool(): number | undefined {
    if (this.pools[this.current]?.enabled && this.pools[this.current]!.url) return this.current;
    return this.priority.find((i) => this.pools[i]!.enabled && this.pools[i]!.url);
  }

  /** Real-time hashrate in GH/s (GHSspd). */
  ghsSpeed(t = this.now()): number {
    return this.hashing(t) ? drift(this.model.levels[this.level]!.ghs * 0.99, 0.05, this.seed + 1, t) : 0;
  }

  ghsAverage(): number {
    const e = this.elapsed();
    return e > 0 ? this.hashes / 1e9 / e : 0;
  }

  wallWatts(t = this.now()): number {
    if (this.power !== 'up') return 0;
    const base = this.hashing(t) ? this.model.levels[this.level]!.watts : 9;
    return drift(base, 0.02, this.seed + 2, t);
  }

  private rawTempAvg(t: number, hashing: boolean): number {
    return drift(hashing ? this.model.levels[this.level]!.tavg : 32, 0.015, this.seed + 3, t);
  }

  private rawTempMax(t: number, hashing: boolean): number {
    let tmax = this.rawTempAvg(t, hashing) + 5 + smoothNoise(this.seed + 4, t, 8000);
    if (this.overheatSince !== undefined && this.faults.has('overheat')) {
      tmax += ((this.faults.get('overheat') || 1) * Math.max(0, t - this.overheatSince)) / 1000;
    }
    return tmax;
  }

  tempAvg(t = this.now()): number {
    return this.rawTempAvg(t, this.hashing(t));
  }

  /** Climbs with the overheat fault; protection stops hashing at the model's overheatTmax but TMax stays high. */
  tempMax(t = this.now()): number {
    return this.rawTempMax(t, this.running());
  }

  fanPercent(t = this.now()): number {
    if (this.fanSetting >= 0) return this.fanSetting;
    return Math.round(
      Math.min(100, 30 + this.level * 12 + 3 * smoothNoise(this.seed + 5, t, 10000) + (this.overheated(t) ? 60 : 0)),
    );
  }

  accepted(): number {
    this.settle();
    const found = Math.floor(this.hashes / (SHARE_DIFF * 4_294_967_296));
    return found - this.rejected(found);
  }

  rejected(found = Math.floor(this.hashes / (SHARE_DIFF * 4_294_967_296))): number {
    return Math.floor(found * 0.002);
  }

  shareDifficulty(): number {
    return SHARE_DIFF;
  }

  // ---- control --------------------------------------------------------------------------------

  /** A new work mode/level also resets the target temperature to that level's default. */
  setLevel(level: number): void {
    this.settle();
    this.level = level;
    this.targetTemp = this.model.levels[level]!.tarT;
  }

  setSoft(off: boolean): number {
    this.settle();
    this.softOff = off;
    const at = Math.floor(this.now() / 1000) + 5;
    if (off) this.softOffTime = at;
    else this.softOnTime = at;
    return at;
  }

  switchPool(i: number): void {
    this.settle();
    this.current = i;
    this.pools[i]!.enabled = true;
  }

  /** Reply first, go down after the delay, boot with the saved pools. */
  reboot(): void {
    this.schedule(this.rebootDelayMs, () => this.goDown());
  }

  private goDown(): void {
    this.settle();
    this.cancelTimers();
    this.power = 'rebooting';
    this.schedule(this.bootMs, () => this.boot());
  }

  private boot(): void {
    const t = this.now();
    this.power = 'up';
    this.bootAt = t;
    this.accruedAt = t;
    this.hashes = 0;
    this.bootCount += 1;
    this.softOff = false;
    this.pools = this.savedPools.map((p) => ({ ...p }));
    this.current = this.priority.find((i) => this.pools[i]!.url) ?? 0;
    if (this.faults.has('overheat')) this.overheatSince = t;
    this.armRebootLoop();
  }

  private armRebootLoop(): void {
    const ms = this.faults.get('reboot-loop');
    if (ms === undefined || this.closed) return;
    this.schedule(ms, () => {
      if (this.faults.has('reboot-loop') && this.power === 'up') this.goDown();
    });
  }

  private schedule(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref?.();
    this.timers.add(timer);
  }

  private cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  close(): void {
    this.closed = true;
    this.cancelTimers();
  }
}

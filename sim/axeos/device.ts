// The simulated AxeOS device: settings, flash partitions, power state, faults and telemetry.
// No transport here — the HTTP server (http.ts) calls these methods — and no timers while
// nothing happens: telemetry is computed from the clock when asked. Timers exist only for a
// pending reboot, so thousands of idle devices cost almost nothing.
import { drift, round, seedOf, smoothNoise } from '../common/drift.js';
import type { FaultMap, FaultName } from '../common/faults.js';
import { expectedHashrate, type Board } from './boards.js';
import { featuresOf, type FirmwareFeatures } from './firmware.js';
import { checkOtaImage, readFactoryImage, shippedFirmware, type PartitionContent } from './flash-image.js';
import { IDLE_TEMP, miningPower, steadyChipTemp } from './physics.js';
import { defaultSettings, type Settings } from './settings.js';

export type PartitionLabel = 'factory' | 'ota_0' | 'ota_1';
export const PARTITIONS: PartitionLabel[] = ['factory', 'ota_0', 'ota_1'];

/** up: answering; rebooting: between restart and boot; dark: booted an image that does not run. */
export type PowerState = 'up' | 'rebooting' | 'dark';

export interface AxeosDeviceOptions {
  board: Board;
  firmware: string;
  faults?: FaultMap;
  /** Clock in ms; injected by tests. */
  now?: () => number;
  /** Delay between the reply to restart/OTA and going down (the firmware waits ~1 s). */
  rebootDelayMs?: number;
  /** Time the device stays unreachable while booting. */
  bootMs?: number;
  /** NerdQAxe++: the one-time password OTA asks for (unset: OTP off). */
  otp?: string;
  /** Seeds telemetry noise (defaults to the board id). */
  seed?: string;
  macAddr?: string;
}

export type OtaOutcome = { status: number; body: string };

export class AxeosDevice {
  readonly board: Board;
  readonly otp: string | undefined;
  settings: Settings;
  readonly partitions: Record<PartitionLabel, PartitionContent | null>;
  running: PartitionLabel = 'factory';
  nextBoot: PartitionLabel = 'factory';
  power: PowerState = 'up';
  bootAt: number;
  bootCount = 0;
  resetReason = 'Reset due to power-on event';
  paused = false;
  readonly faults: FaultMap;
  readonly macAddr: string;
  private readonly now: () => number;
  private readonly rebootDelayMs: number;
  private readonly bootMs: number;
  private readonly seed: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Hashes done since boot up to `accruedAt` (shares are derived from it). */
  private hashes = 0;
  private accruedAt: number;
  private bestSession = 0;
  private overheatSince: number | undefined;
  private overheatTrippedAt: number | undefined;
  private closed = false;
  private loopTimer: NodeJS.Timeout | undefined;

  constructor(opts: AxeosDeviceOptions) {
    this.board = opts.board;
    this.otp = opts.otp;
    this.now = opts.now ?? Date.now;
    this.rebootDelayMs = opts.rebootDelayMs ?? 1000;
    this.bootMs = opts.bootMs ?? 1500;
    this.seed = seedOf(opts.seed ?? opts.board.id);
    this.faults = opts.faults ?? new Map();
    this.settings = defaultSettings(opts.board);
    this.settings.bestDiff = 0;
    const s = this.seed;
    this.macAddr =
      opts.macAddr ??
      ['AA', 'BB', ...[0, 8, 16, 24].map((k) => ((s >>> k) & 0xff).toString(16).padStart(2, '0').toUpperCase())].join(
        ':',
      );
    this.partitions = { factory: shippedFirmware(opts.firmware), ota_0: null, ota_1: null };
    this.bootAt = this.now();
    this.accruedAt = this.bootAt;
    if (this.faults.has('overheat')) this.overheatSince = this.bootAt;
    this.armRebootLoop();
  }

  get version(): string {
    return this.partitions[this.running]?.version ?? 'unknown';
  }

  get features(): FirmwareFeatures {
    return featuresOf(this.version, this.board.family);
  }

  uptimeSeconds(t = this.now()): number {
    return Math.max(0, Math.floor((t - this.bootAt) / 1000));
  }

  // ---- faults -------------------------------------------------------------------------------

  setFault(name: FaultName, value: number): void {
    this.settle();
    this.faults.set(name, value);
    if (name === 'overheat' && this.overheatSince === undefined) this.overheatSince = this.now();
    if (name === 'reboot-loop' && this.power === 'up') this.armRebootLoop();
  }

  clearFault(name: FaultName): void {
    this.settle();
    this.faults.delete(name);
    if (name === 'overheat') this.overheatSince = undefined;
  }

  // ---- telemetry ----------------------------------------------------------------------------

  /** Applies what happened since the last call (overheat trip, share accrual). Call before reading or changing state. */
  settle(t = this.now()): void {
    const trip = this.overheatTripTime();
    if (trip !== undefined && this.overheatTrippedAt === undefined && trip <= t) {
      this.accrue(trip);
      this.overheatTrippedAt = trip;
      this.settings.overheat_mode = 1;
    }
    this.accrue(t);
  }

  expectedHashrate(): number {
    return expectedHashrate(this.board, this.settings.frequency);
  }

  /** Whether the ASICs are hashing at time t. */
  mining(t = this.now()): boolean {
    if (this.power !== 'up' || this.paused) return false;
    if (this.settings.overheat_mode === 1 && this.overheatTrippedAt === undefined) return false;
    return this.overheatTrippedAt === undefined || t < this.overheatTrippedAt;
  }

  /** The share of the expected rate the ASICs deliver: 98.5 %, less under the low-hashrate fault. */
  hashYield(): number {
    return 0.985 * (this.faults.has('low-hashrate') ? this.faults.get('low-hashrate')! : 1);
  }

  private accrue(t: number): void {
    if (t <= this.accruedAt) return;
    if (this.mining(this.accruedAt))
      this.hashes += this.expectedHashrate() * this.hashYield() * 1e9 * ((t - this.accruedAt) / 1000);
    this.accruedAt = t;
    const accepted = this.sharesAccepted();
    if (accepted > 0) {
      const diff = this.poolDifficulty();
      const candidate = Math.round(diff * (1 + accepted) * (1.5 + smoothNoise(this.seed + 7, accepted, 3)));
      this.bestSession = Math.max(this.bestSession, candidate);
      this.settings.bestDiff = Math.max(this.settings.bestDiff, this.bestSession);
    }
  }

  poolDifficulty(): number {
    const pool = this.settings.pools[this.settings.primaryPoolIndex] ?? this.settings.pools[0];
    return Math.max(1, pool?.stratumSuggestedDifficulty || 1000);
  }

  sharesAccepted(): number {
    const found = Math.floor(this.hashes / (this.poolDifficulty() * 4_294_967_296));
    return found - this.sharesRejected(found);
  }

  sharesRejected(found = Math.floor(this.hashes / (this.poolDifficulty() * 4_294_967_296))): number {
    return Math.floor(found * 0.004);
  }

  bestSessionDiff(): number {
    return this.bestSession;
  }

  /** ESP-Miner trips at 75 °C; NerdQAxe at its `overheat_temp` setting. */
  overheatTemp(): number {
    return this.board.family === 'nerdqaxe' ? this.settings.overheatTemp : 75;
  }

  private overheatTripTime(): number | undefined {
    if (this.overheatSince === undefined || !this.faults.has('overheat')) return undefined;
    const rate = this.faults.get('overheat') || 1; // °C per second
    const base = this.baseChipTemp();
    return this.overheatSince + Math.max(0, (this.overheatTemp() - base) / rate) * 1000;
  }

  /** Steady chip temperature for the current settings and fan, before noise. */
  private baseChipTemp(): number {
    return steadyChipTemp(this.board, this.settings, this.mining());
  }

  /** A snapshot of everything that changes with time, as AxeOS reports it. */
  telemetry(t = this.now()) {
    this.settle(t);
    const mining = this.mining(t);
    const expected = this.expectedHashrate();
    const delivered = expected * this.hashYield();
    const s = this.seed;
    const hashRate = mining ? drift(delivered, 0.04, s + 1, t) : 0;
    const power = mining
      ? drift(miningPower(this.board, this.settings), 0.02, s + 2, t)
      : drift(this.board.idlePower, 0.03, s + 2, t);
    const voltage = drift(this.board.nominalVoltage * 1.02, 0.004, s + 3, t);
    let temp = drift(this.baseChipTemp(), 0.015, s + 4, t);
    if (this.overheatSince !== undefined && this.faults.has('overheat')) {
      const rate = this.faults.get('overheat') || 1;
      if (this.overheatTrippedAt === undefined) temp += (rate * Math.max(0, t - this.overheatSince)) / 1000;
      else temp = Math.max(IDLE_TEMP, this.overheatTemp() + 2 - ((t - this.overheatTrippedAt) / 1000) * 0.5);
    }
    const overheated = this.settings.overheat_mode === 1;
    let fanspeed: number;
    if (overheated) fanspeed = 100;
    else if (this.settings.autofanspeed)
      fanspeed = Math.max(this.settings.minFanSpeed, Math.min(100, 35 + (temp - 50) * 3));
    else fanspeed = this.settings.manualFanSpeed;
    return {
      mining,
      hashRate: round(hashRate, 2),
      hashRate_1m: mining ? round(drift(delivered, 0.02, s + 11, t), 2) : 0,
      hashRate_10m: mining ? round(drift(delivered, 0.01, s + 12, t), 2) : 0,
      hashRate_1h: mining ? round(drift(delivered, 0.005, s + 13, t), 2) : 0,
      expectedHashrate: round(expected, 2),
      power: round(power, 3),
      voltage: round(voltage, 1),
      current: round((power / (voltage / 1000)) * 1000, 2),
      temp: round(temp, 3),
      temp2: round(temp - 1.5, 3),
      vrTemp: round(temp + 9 + 2 * smoothNoise(s + 5, t, 9000), 1),
      coreVoltageActual: mining ? Math.round(this.settings.coreVoltage + 4 + 4 * smoothNoise(s + 6, t, 5000)) : 0,
      fanspeed: round(fanspeed, 1),
      fanrpm: Math.round(fanspeed * 100 * (1 + 0.01 * smoothNoise(s + 8, t, 4000))),
      fan2rpm: 0,
      sharesAccepted: this.sharesAccepted(),
      sharesRejected: this.sharesRejected(),
      errorPercentage: mining ? round(0.3 + 0.2 * smoothNoise(s + 9, t, 20000), 2) : 0,
      wifiRSSI: Math.round(-55 + 6 * smoothNoise(s + 10, t, 30000)),
      freeHeap: Math.round(8_400_000 + 40_000 * smoothNoise(s + 14, t, 15000)),
      responseTime: round(40 + 15 * smoothNoise(s + 15, t, 10000), 2),
      uptimeSeconds: this.uptimeSeconds(t),
    };
  }

  // ---- control --------------------------------------------------------------------------------

  /**
   * After a settings change (frequency/voltage/fan apply at once): telemetry reads the settings
   * directly, so only the accounting clock moves. Call settle() before changing settings.
   */
  changed(): void {
    this.settle();
  }

  setPaused(paused: boolean): void {
    this.settle();
    this.paused = paused;
  }

  /** Restart as the firmware does: reply first, go down after the reboot delay, come back after booting. */
  restart(reason = 'Software reset via esp_restart'): void {
    this.schedule(this.rebootDelayMs, () => this.goDown(reason));
  }

  /** Power switch: down now, boot after bootMs. Works in any state. */
  powerCycle(): void {
    this.cancelTimers();
    this.goDown('Reset due to power-on event');
  }

  /** Called when the device goes down (the HTTP server drops the connections it had). */
  onDown: (() => void) | undefined;

  private goDown(reason: string): void {
    this.onDown?.();
    this.settle();
    this.cancelTimers();
    this.power = 'rebooting';
    this.resetReason = reason;
    this.schedule(this.bootMs, () => this.boot());
  }

  private boot(): void {
    const image = this.partitions[this.nextBoot];
    this.running = this.nextBoot;
    if (!image || image.bricked) {
      this.power = 'dark';
      return;
    }
    const t = this.now();
    this.power = 'up';
    this.bootAt = t;
    this.accruedAt = t;
    this.hashes = 0;
    this.bestSession = 0;
    this.paused = false;
    this.bootCount += 1;
    this.overheatTrippedAt = undefined;
    // ESP-Miner keeps overheat_mode in NVS until cleared; NerdQAxe's shutdown ends with a restart.
    if (this.board.family === 'nerdqaxe') this.settings.overheat_mode = 0;
    if (this.faults.has('overheat')) this.overheatSince = t;
    this.armRebootLoop();
  }

  private armRebootLoop(): void {
    const loop = this.faults.get('reboot-loop');
    if (loop === undefined || this.closed) return;
    if (this.loopTimer) {
      clearTimeout(this.loopTimer);
      this.timers.delete(this.loopTimer);
    }
    this.loopTimer = this.schedule(loop, () => {
      if (this.faults.has('reboot-loop') && this.power === 'up') this.goDown('Reset due to task watchdog');
    });
  }

  /** The partition an OTA writes: the other OTA slot (ota_0 when running factory). */
  otaTarget(): PartitionLabel {
    return this.running === 'ota_0' ? 'ota_1' : 'ota_0';
  }

  /**
   * POST /api/system/OTA. esp_ota_write refuses a first byte other than 0xE9 ("Write Error"),
   * esp_ota_end refuses an image that does not validate; on success the boot partition is set,
   * the reply sent, and the device reboots about a second later.
   */
  ota(image: Buffer): OtaOutcome {
    this.settle();
    const check = checkOtaImage(image, {
      failValidation: this.faults.has('flash-fail'),
      bricks: this.faults.has('brick'),
    });
    if (!check.ok) return { status: check.status, body: check.body };
    const target = this.otaTarget();
    this.partitions[target] = check.content;
    this.nextBoot = target;
    this.restart('Software reset via esp_restart');
    return { status: 200, body: 'Firmware update complete, rebooting now!\n' };
  }

  /** POST /api/system/boot (v2.15): the partition for the next boot; the firmware reboots into it by itself. */
  setBootPartition(label: string): { ok: boolean; message: string } {
    if (!(PARTITIONS as string[]).includes(label)) return { ok: false, message: `Invalid partition label: ${label}` };
    if (!this.partitions[label as PartitionLabel])
      return { ok: false, message: `Partition ${label} holds no firmware` };
    this.nextBoot = label as PartitionLabel;
    this.restart('Software reset via esp_restart');
    return { ok: true, message: 'Next boot partition set successfully. Rebooting...' };
  }

  /**
   * The bench's serial line (esptool at 0x0): a merged factory image (app at 0x10000) or a bare app
   * image becomes the factory app; OTA slots and settings are erased; the device boots it.
   * Works whatever state the device is in.
   */
  serialFlash(image: Buffer): { ok: true; version: string } | { ok: false; reason: string } {
    const check = readFactoryImage(image);
    if (!check.ok) return check;
    this.cancelTimers();
    this.partitions.factory = check.content;
    this.partitions.ota_0 = null;
    this.partitions.ota_1 = null;
    this.nextBoot = 'factory';
    this.settings = defaultSettings(this.board);
    this.goDown('Reset by USB peripheral');
    return { ok: true, version: check.content.version };
  }

  /** Reachable over the miner's own API (the bench side channel is always reachable). */
  reachable(): boolean {
    return this.power === 'up';
  }

  private schedule(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (this.closed) return undefined;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref?.();
    this.timers.add(timer);
    return timer;
  }

  private cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  close(): void {
    this.closed = true;
    this.cancelTimers();
  }

  /** State for the bench side channel and in-process tests. */
  snapshot() {
    this.settle();
    return {
      kind: 'axeos' as const,
      board: this.board.id,
      power: this.power,
      version: this.version,
      running: this.running,
      nextBoot: this.nextBoot,
      bootCount: this.bootCount,
      uptimeSeconds: this.uptimeSeconds(),
      paused: this.paused,
      overheat_mode: this.settings.overheat_mode,
      partitions: Object.fromEntries(PARTITIONS.map((p) => [p, this.partitions[p]])),
      faults: Object.fromEntries(this.faults),
      settings: { ...this.settings, wifiPass: undefined },
    };
  }
}

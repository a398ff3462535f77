// The one interface every device driver implements. A driver talks to one device; the runner's
// operations (flash, control, telemetry, test) only ever see this interface.
import type { Mode } from './modes.js';

export type DriverKind = 'axeos' | 'cgminer' | 'nmminer' | 'command';
export const DRIVER_KINDS: readonly DriverKind[] = ['axeos', 'cgminer', 'nmminer', 'command'];

export type Capability = 'info' | 'telemetry' | 'control' | 'flash';

/** Every operation accepts these: an abort signal and a bound on how long it may take. */
export interface OpOptions {
  signal?: AbortSignal;
  /** Upper bound for the whole operation, ms (each driver has a sensible default). */
  timeoutMs?: number;
}

/** A device as the testbed description (or the command line) names it. */
export interface DeviceSpec {
  name: string;
  driver: DriverKind;
  address: string;
  hardware?: string;
  software?: string;
  attributes?: string[];
  options?: Record<string, unknown>;
  /** Baseline: the pools the device has at rest (restored after every job). */
  pools?: PoolConfig[];
  /** Baseline: the settings the device has at rest. */
  settings?: DeviceSettings;
  /** What health checks expect it to hash, GH/s (overrides what the device reports). */
  expectedHashrateGhs?: number;
  /** The highest temperature a health check accepts for this device, °C (overrides --max-temperature). */
  maxTemperatureC?: number;
}

/** Baseline settings of a device (testbed description `settings`). */
export interface DeviceSettings {
  mode?: Mode;
  /** MHz */
  frequency?: number;
  /** Core voltage, mV */
  voltage?: number;
  /** Fan duty, percent (automatic fan control off) */
  fan?: number;
}

/** A device's pools and settings compared with its baseline, by a driver that can read them back. */
export interface BaselineComparison {
  /** Absent when the baseline names no pools. */
  pools?: { same: boolean; current: string };
  settings?: { same: boolean; current: string };
}

export interface DeviceInfo {
  name: string;
  driver: DriverKind;
  address: string;
  /** Human model name, e.g. "Bitaxe Gamma", "Avalon Nano 3S", "NMMiner NMLotto". */
  model: string;
  /** The hardware identifier a test definition matches on (boardVersion "601", "nano3s", …). */
  hardware: string | null;
  firmwareVersion: string | null;
  /** The ESP-IDF project name images for this device must carry (flashable devices only). */
  imageProject?: string;
  /** The image family it takes (firmware/identity.ts: "bitaxe", "nerdqaxe"), where the project name cannot tell. */
  imageFamily?: string;
  raw?: unknown;
}

export interface Fan {
  name: string;
  rpm: number | null;
  percent: number | null;
}

/** One normalised telemetry sample, the same shape for every driver. */
export interface Telemetry {
  device: string;
  driver: DriverKind;
  /** ISO time the sample was taken. */
  at: string;
  online: boolean;
  hashrateGhs: number | null;
  expectedHashrateGhs: number | null;
  /** Watts; null when the device does not report power reliably. */
  powerW: number | null;
  /** J/TH = W / (GH/s / 1000); null when power or hashrate is unknown or zero. */
  efficiencyJth: number | null;
  /** °C by sensor name (chip, vr, board, …). */
  temperatures: Record<string, number>;
  fans: Fan[];
  sharesAccepted: number | null;
  sharesRejected: number | null;
  uptimeS: number | null;
  firmwareVersion: string | null;
  paused: boolean | null;
  raw: unknown;
}

/** Work modes live in modes.ts (names per driver, aliases, board limits). */
export type { Mode } from './modes.js';
export { ALL_MODES as MODES } from './modes.js';

export interface PoolConfig {
  /** stratum+tcp://host:port (or host with a separate port). */
  url: string;
  port?: number;
  user: string;
  password?: string;
}

export type ControlAction =
  | { op: 'restart' }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'mode'; mode: Mode }
  | { op: 'frequency'; mhz: number }
  | { op: 'voltage'; mv: number }
  | { op: 'fan'; percent: number }
  | { op: 'pools-set'; pools: PoolConfig[] }
  | { op: 'pools-switch'; index: number }
  /** Pool indexes in the order the device should try them (cgminer poolpriority). */
  | { op: 'pools-priority'; order: number[] };

export interface ControlResult {
  ok: true;
  action: ControlAction['op'];
  /** What the device answered, in its own words. */
  message: string;
  /** Whether the change takes effect only after a restart. */
  needsRestart?: boolean;
  details?: Record<string, unknown>;
}

/** Progress of a long operation, emitted as it happens (upload bytes, phases). */
export type ProgressEvent =
  | { phase: 'validate'; message: string }
  | { phase: 'upload'; sent: number; total: number }
  | { phase: 'reboot'; message: string }
  | { phase: 'verify'; message: string }
  | { phase: 'recover'; message: string }
  | { phase: 'done'; message: string };

export interface FlashOptions extends OpOptions {
  /** The version read from the image's app descriptor. */
  expectedVersion: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Wait between polls while the device reboots, ms. */
  pollIntervalMs?: number;
  /** How long the device may take to come back after the upload, ms. */
  rebootTimeoutMs?: number;
  /** An uptime (s) above this after the reboot means the device did not actually reboot. */
  maxUptimeS?: number;
  /** How long the device must keep answering on the new image (catches reboot loops), ms. */
  settleMs?: number;
}

export interface FlashResult {
  ok: true;
  version: string;
  previousVersion: string | null;
  partition: string | null;
  previousPartition: string | null;
  uptimeS: number | null;
  durationMs: number;
}

export interface Driver {
  readonly kind: DriverKind;
  readonly device: DeviceSpec;
  readonly capabilities: ReadonlySet<Capability>;
  info(opts?: OpOptions): Promise<DeviceInfo>;
  telemetry(opts?: OpOptions): Promise<Telemetry>;
  control(action: ControlAction, opts?: OpOptions): Promise<ControlResult>;
  flash(image: Buffer, opts: FlashOptions): Promise<FlashResult>;
  /**
   * Reads the device's pools and settings and compares them with a baseline, so that a restore
   * of a device already at its baseline changes nothing. Drivers that cannot read them back leave
   * it out, and a restore applies the baseline every time.
   */
  compareBaseline?(
    want: { pools?: PoolConfig[]; settings?: DeviceSettings },
    opts?: OpOptions,
  ): Promise<BaselineComparison>;
  /** Releases sockets and listeners. */
  close(): Promise<void>;
}

/** J/TH from watts and GH/s; null when either is unknown or hashrate is zero. */
export function efficiency(powerW: number | null, hashrateGhs: number | null): number | null {
  if (powerW === null || hashrateGhs === null || !(hashrateGhs > 0) || !Number.isFinite(powerW)) return null;
  return Math.round((powerW / (hashrateGhs / 1000)) * 100) / 100;
}

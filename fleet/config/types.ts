// The fleet's normalised configuration (fleet/config/load.ts builds it from a fleet-only TOML, a
// factory config, or a file that is both).
import type { EnergyConfig } from '../energy/types.js';
import type { MqttConfig } from '../export/mqtt-config.js';
import type { MinerDefinition } from '../types.js';

export interface RetentionConfig {
  /** How long raw samples are kept, ms (default 48 h). */
  rawMs: number;
  /** Per-minute roll-ups, ms (default 30 d). */
  minuteMs: number;
  /** Per-hour roll-ups, ms (default 2 y). */
  hourMs: number;
}

export interface FleetSettings {
  /** Default poll interval, ms ([fleet] poll_interval, default 10 s). */
  pollIntervalMs: number;
  /** HOST:PORT of the API ([fleet] listen; --listen overrides it). */
  listen?: { host: string; port: number };
  /** Path of the admin token file ([fleet] admin_token_file), resolved against the config's folder. */
  adminTokenFile?: string;
  /** The shared NMMiner telemetry listener: UDP port (default 12345) and address (default 0.0.0.0). */
  udpPort: number;
  udpAddress: string;
  /** Missed readings in a row before a miner is offline (default 3). */
  offlineAfter: number;
  /** Miners read at the same time at most (default 32). */
  concurrency: number;
  /** Bound on one reading, ms (default 5 s). */
  requestTimeoutMs: number;
  retention: RetentionConfig;
  /** /metrics: without a token (`open`, default) or with any API token (`token`) ([fleet] metrics). */
  metrics: 'open' | 'token';
}

export interface LabConfig {
  /** The factory API the fleet reserves testbeds through, e.g. http://127.0.0.1:9310. */
  url: string;
  token: string;
}

/** A factory the fleet watches: [lab] (named "default") or [lab.NAME]. */
export interface FleetLabConfig extends LabConfig {
  name: string;
}

export interface FleetConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Whether the file is (also) a factory config: its testbed devices are fleet miners. */
  kind: 'fleet' | 'factory' | 'both';
  fleet: FleetSettings;
  /** [lab]: the lab named "default" (also labs[0] when set). */
  lab?: LabConfig;
  /** Every factory the fleet watches: [lab] first as "default", then the [lab.NAME] tables by name. */
  labs: FleetLabConfig[];
  /** The job server the web UI's jobs pages reach through the daemon ([jobs] url, token). */
  jobs?: LabConfig;
  /** Prices and rules ([energy]; absent: a flat price of 0). */
  energy: EnergyConfig;
  /** The MQTT exporter ([mqtt]; absent or enabled = false: off). */
  mqtt?: MqttConfig;
  /** Config and testbed miners, sorted by id. */
  miners: MinerDefinition[];
}

export const FLEET_DEFAULTS = {
  pollIntervalMs: 10_000,
  udpPort: 12345,
  udpAddress: '0.0.0.0',
  offlineAfter: 3,
  concurrency: 32,
  requestTimeoutMs: 5_000,
  metrics: 'open',
  retention: { rawMs: 48 * 3_600_000, minuteMs: 30 * 86_400_000, hourMs: 2 * 365 * 86_400_000 },
} as const;

// The factory's configuration after parsing, checking and normalising: durations in ms, paths
// absolute, secrets read, seed shorthands expanded. Nothing downstream looks at raw TOML.

export type DeviceDriver = 'axeos' | 'cgminer' | 'nmminer' | 'command';
export const DEVICE_DRIVERS: readonly DeviceDriver[] = ['axeos', 'cgminer', 'nmminer', 'command'];

export interface PoolConfig {
  url: string;
  user: string;
  password?: string;
}

/** Settings a device is restored to after every job (each optional). */
export interface DeviceSettings {
  /** A mode name of the runner's (runner/drivers/modes.ts MODE_NAMES): eco|standard|turbo|oc, low|med|high, aliases. */
  mode?: string;
  /** MHz */
  frequency?: number;
  /** mV */
  voltage?: number;
  /** percent */
  fan?: number;
}

export interface DeviceConfig {
  name: string;
  driver: DeviceDriver;
  hardware?: string;
  /** The firmware the device runs at rest: its baseline (else the testbed's `baseline`). */
  software?: string;
  address?: string;
  attributes: string[];
  options: Record<string, unknown>;
  /** Baseline pools, restored after every job. */
  pools?: PoolConfig[];
  /** Baseline settings, restored after every job. */
  settings?: DeviceSettings;
  /** What a health check expects, when the device does not report it (GH/s). */
  expectedHashrateGhs?: number;
  /** The highest temperature a health check accepts for this device (°C; else [health] max_temperature). */
  maxTemperature?: number;
}

export interface LocalPlacement {
  mode: 'local';
}

export interface SshPlacement {
  mode: 'ssh';
  host: string;
  port: number;
  user?: string;
  identityFile?: string;
  knownHosts?: string;
  /** A pinned host key fingerprint ("SHA256:…") instead of known_hosts. */
  hostKey?: string;
  remoteWorkdir?: string;
  remoteCommand?: string[];
  /** The lock directory on the host, where its runners (and people's) look (default /tmp/mvm-testbed-locks). */
  lockDir?: string;
}

export type AgentPlacement = LocalPlacement | SshPlacement;

export interface TestbedConfig {
  name: string;
  /** As written: target names (keys of `[target.NAME]`) or target ids (ULIDs). */
  targets: string[];
  enabled: boolean;
  baseline?: string;
  description?: string;
  agent: AgentPlacement;
  devices: DeviceConfig[];
  /** The unprivileged user the agent runs this testbed's tasks as (`task_user`). */
  taskUser?: string;
}

export interface TargetConfig {
  /** The `[target.NAME]` key. */
  name: string;
  /** Known without asking the server: the key itself when it is a ULID, or the `id` key. */
  id?: string;
}

export interface HealthConfig {
  /** Off: no checks through the runner and no baseline restore; a due check passes at once. */
  enabled: boolean;
  /** A good testbed is checked again after this long (0: never on a schedule). */
  intervalMs: number;
  /** Wait after a failed check, doubling per failure. */
  retryMs: number;
  /** Failed checks in a row before a testbed is bad. */
  badAfter: number;
  /** Bound on one check (restore included). */
  timeoutMs: number;
  windowMs: number;
  samples: number;
  hashrateTolerance: number;
  maxTemperature: number;
  /** Restore the baseline after every job. */
  restore: boolean;
  restoreTimeoutMs: number;
  /** Checks and restores running at once. */
  concurrency: number;
}

export interface ApiConfig {
  /** Where the reservation API listens; absent: no API (listen = "off"). */
  listen?: { host: string; port: number };
  /** The API's admin token (else one is made and kept beside the database). */
  adminToken?: string;
  defaultTtlMs: number;
  maxTtlMs: number;
  /** /metrics: "open" (no token) or "token" (any API user's token). */
  metricsAuth?: 'open' | 'token';
}

export interface FactoryConfig {
  /** Absolute path of the file the configuration came from. */
  file: string;
  baseUrl: string;
  token: string;
  /** Lets the factory resolve target names to ids through the admin API. */
  adminToken?: string;
  pollIntervalMs: number;
  leaseWaitMs: number;
  drainTimeoutMs: number;
  agentStartTimeoutMs: number;
  agentOnlineTimeoutMs: number;
  /** Agents a job may see fail to start or come online before the factory fails the job. */
  agentStartAttempts: number;
  instanceDeadlineMs: number;
  stopGraceMs: number;
  /** Root of the per-instance work directories; undefined: beside the database. */
  workdir?: string;
  /** Keep an ended instance's job files (inputs, work, outputs) instead of removing them. */
  keepJobFiles: boolean;
  agentCommand: string[];
  /** The runner program for health checks and restores; the factory appends the operation's arguments. */
  runnerCommand: string[];
  /** The lab's firmware library (ESP32 app images), for restores and test definitions. */
  firmwareDir?: string;
  quarantineUnhealthy: boolean;
  health: HealthConfig;
  api: ApiConfig;
  targets: TargetConfig[];
  testbeds: TestbedConfig[];
  /** What the check found worth saying without refusing the config ("file: key: message"). */
  warnings?: string[];
}

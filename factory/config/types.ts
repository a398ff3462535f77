// The factory's configuration after parsing, checking and normalising: durations in ms, paths
// absolute, secrets read, seed shorthands expanded. Nothing downstream looks at raw TOML.

export type DeviceDriver = 'axeos' | 'cgminer' | 'nmminer' | 'command';
export const DEVICE_DRIVERS: readonly DeviceDriver[] = ['axeos', 'cgminer', 'nmminer', 'command'];

export interface DeviceConfig {
  name: string;
  driver: DeviceDriver;
  hardware?: string;
  software?: string;
  address?: string;
  attributes: string[];
  options: Record<string, unknown>;
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
  remoteWorkdir?: string;
  remoteCommand?: string[];
}

export type AgentPlacement = LocalPlacement | SshPlacement;

export interface TestbedConfig {
  name: string;
  /** As written: target names (keys of `[target.NAME]`) or target ids (ULIDs). */
  targets: string[];
  enabled: boolean;
  baseline?: string;
  agent: AgentPlacement;
  devices: DeviceConfig[];
}

export interface TargetConfig {
  /** The `[target.NAME]` key. */
  name: string;
  /** Known without asking the server: the key itself when it is a ULID, or the `id` key. */
  id?: string;
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
  instanceDeadlineMs: number;
  stopGraceMs: number;
  /** Root of the per-instance work directories; undefined: beside the database. */
  workdir?: string;
  agentCommand: string[];
  quarantineUnhealthy: boolean;
  targets: TargetConfig[];
  testbeds: TestbedConfig[];
}

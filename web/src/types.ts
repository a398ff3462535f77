// The shapes the pages read. Fleet types mirror fleet/types.ts (the API's contract); lab ones the
// factory API's and job server's answers, reached through /api/lab and /api/jobs.
export interface Fan {
  rpm: number | null;
  percent: number | null;
}

export interface Telemetry {
  at: string;
  online: boolean;
  hashrateGhs: number | null;
  expectedHashrateGhs: number | null;
  powerW: number | null;
  efficiencyJth: number | null;
  temperatures: Record<string, number>;
  fans?: Fan[];
  sharesAccepted?: number | null;
  sharesRejected?: number | null;
  uptimeS?: number | null;
  firmwareVersion?: string | null;
  paused?: boolean | null;
}

export interface Miner {
  id: string;
  driver: string;
  address: string;
  model?: string;
  expectedHashrateGhs?: number;
  location?: string;
  tags: string[];
  source: 'config' | 'testbed' | 'api';
  testbed?: string;
  status: 'unknown' | 'online' | 'offline';
  lastSeenAt: number | null;
  last: Telemetry | null;
  lastError: string | null;
  mode?: string | null;
  desired?: { mode: string | null; paused: boolean | null; poolIds: string[] | null } | null;
}

export interface FleetStats {
  miners: number;
  online: number;
  offline: number;
  unknown: number;
  hashrateGhs: number;
  expectedHashrateGhs: number;
  powerW: number;
  efficiencyJth: number | null;
  at: string;
}

export interface FleetEvent {
  id: number;
  at: string;
  minerId: string | null;
  kind: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  actor: string | null;
  data: Record<string, unknown> | null;
}

export interface Stat {
  min: number;
  mean: number;
  max: number;
}

export interface HistoryPoint {
  t: number;
  n: number;
  hashrateGhs: Stat | null;
  powerW: Stat | null;
  efficiencyJth: Stat | null;
  temperatures: Record<string, Stat>;
}

export interface HistoryResult {
  minerId: string;
  resolution: string;
  stepMs: number;
  points: HistoryPoint[];
}

export interface Pool {
  id: string;
  name: string;
  url: string;
  port: number;
  user: string;
  password?: string | null;
  tls: boolean;
}

export interface PoolAssignment {
  scope: { miner: string } | { tag: string };
  /** the fleet API's name; poolIds in fleet/types.ts */
  pools?: string[];
  poolIds?: string[];
}

export interface Blocker {
  kind: string;
  message: string;
  until?: string | null;
}

export interface Testbed {
  name: string;
  description: string | null;
  enabled: boolean;
  targets: string[];
  state: string;
  free: boolean;
  health: string;
  health_reason: string | null;
  last_check_at: string | null;
  next_check_at: string | null;
  blockers: Blocker[];
  lock: {
    kind: string;
    owner: string;
    reason: string | null;
    acquired_at: string | null;
    expires_at: string | null;
  } | null;
  instance: { id: string; job: string | null; state: string } | null;
  devices: Array<{ name: string; driver: string; hardware: string | null; address: string | null }>;
  /** In the fleet's listing of every lab (GET /api/labs): the lab, and the name to use (NAME or NAME@LAB). */
  lab?: string;
  ref?: string;
}

/** One lab of GET /api/labs: whether its factory answered. */
export interface LabStatus {
  name: string;
  url: string;
  reachable: boolean | null;
  error: string | null;
  checkedAt: number | null;
  answeredAt: number | null;
  testbeds: number;
}

export interface Job {
  id: string;
  name: string;
  owner?: string;
  state: string;
  target: string;
  tags?: Record<string, string>;
  cancelled?: boolean;
  times?: Record<string, string>;
  tasks?: Array<{ name: string; state: string }>;
}

export interface JobEvent {
  seq: number;
  task: number | null;
  stream: string;
  time: string;
  payload: string;
}

// The fleet controller's domain types and the store interfaces its parts share. The data plane
// (config, database, stores, collector, history) implements them; the control plane (API, actions,
// daemon, CLI) and the exporters (MQTT, Prometheus, web UI) consume them.
import type { DriverKind, Telemetry } from '../runner/drivers/types.js';

/** Where a miner's definition comes from: config ones are read-only through the API. */
export type MinerSource = 'config' | 'testbed' | 'api';

export interface MinerDefinition {
  /** The miner's id in the API: its name in the config (or the name given when added). */
  id: string;
  driver: DriverKind;
  address: string;
  /** Driver options, as a testbed device has them (e.g. nmminer udp ports, cgminer credentials). */
  options: Record<string, unknown>;
  model?: string;
  /** GH/s the miner should hash (else what the device reports). */
  expectedHashrateGhs?: number;
  location?: string;
  tags: string[];
  /** Poll interval, ms (else [fleet] poll_interval). */
  pollIntervalMs?: number;
  source: MinerSource;
  /** Set when the device belongs to a factory testbed: the fleet changes it only under a reservation. */
  testbed?: string;
  /** The hardware id the config states (boardVersion "601", "nano3s", ...), when known. */
  hardware?: string;
}

export type MinerStatus = 'unknown' | 'online' | 'offline';

/** What the collector knows of a miner now (stored in SQLite, survives restarts). */
export interface MinerLiveState {
  id: string;
  status: MinerStatus;
  /** Readings missed in a row. */
  missed: number;
  /** ms since epoch of the last good reading. */
  lastSeenAt: number | null;
  /** The last good reading, normalised (the runner's Telemetry field names). */
  last: Telemetry | null;
  lastError: string | null;
}

export interface MinerView extends MinerDefinition, Omit<MinerLiveState, 'id'> {
  createdAt: string;
  updatedAt: string;
}

/** One stored sample (raw resolution), the fields charts and roll-ups use. */
export interface SampleRow {
  minerId: string;
  /** ms since epoch */
  at: number;
  online: boolean;
  hashrateGhs: number | null;
  powerW: number | null;
  efficiencyJth: number | null;
  /** °C by sensor name */
  temperatures: Record<string, number>;
  /** highest fan rpm and percent over the miner's fans */
  fanRpm: number | null;
  fanPercent: number | null;
  sharesAccepted: number | null;
  sharesRejected: number | null;
}

export type Resolution = 'raw' | 'minute' | 'hour';

export interface Stat {
  min: number;
  mean: number;
  max: number;
}

/** One point of a history query at any resolution (raw points have min = mean = max). */
export interface HistoryPoint {
  /** bucket start, ms since epoch */
  t: number;
  /** samples in the bucket */
  n: number;
  hashrateGhs: Stat | null;
  powerW: Stat | null;
  efficiencyJth: Stat | null;
  temperatures: Record<string, Stat>;
  fanRpm: Stat | null;
  fanPercent: Stat | null;
}

export interface HistoryQuery {
  minerId: string;
  from: number;
  to: number;
  /** Wanted spacing, ms; picks the table (raw / minute / hour) and may merge buckets. Absent: auto. */
  stepMs?: number;
}

export interface HistoryResult {
  minerId: string;
  resolution: Resolution;
  stepMs: number;
  points: HistoryPoint[];
}

export type FleetEventKind =
  | 'online'
  | 'offline'
  | 'mode'
  | 'pools'
  | 'drift'
  | 'restart'
  | 'pause'
  | 'resume'
  | 'setting'
  | 'refused'
  | 'error'
  | 'miner' // added, edited, removed
  | 'config' // reloaded, rejected
  | 'retention' // pruning, write failures
  | 'price' // (energy issue)
  | 'rule'; // (automation issue)

export interface FleetEvent {
  id: number;
  /** ISO time */
  at: string;
  minerId: string | null;
  kind: FleetEventKind;
  level: 'info' | 'warn' | 'error';
  message: string;
  /** who or what asked: a token's name, "collector", "config", "rule:NAME" */
  actor: string | null;
  data: Record<string, unknown> | null;
}

export interface NewFleetEvent {
  minerId?: string | null;
  kind: FleetEventKind;
  level?: 'info' | 'warn' | 'error';
  message: string;
  actor?: string | null;
  data?: Record<string, unknown> | null;
}

/** A pool of the catalogue. The password is stored but never logged or returned in clear. */
export interface PoolDefinition {
  id: string;
  name: string;
  /** stratum+tcp://host or stratum+ssl://host */
  url: string;
  port: number;
  user: string;
  password: string | null;
  tls: boolean;
}

/** An ordered pool list (first = highest priority) for one miner or for every miner with a tag. */
export interface PoolAssignment {
  scope: { miner: string } | { tag: string };
  poolIds: string[];
}

/** What the fleet wants a miner to be in (applied through the drivers, compared on read-back). */
export interface DesiredState {
  minerId: string;
  mode: string | null;
  paused: boolean | null;
  /** pool ids, in priority order, resolved from the miner's and its tags' assignments */
  poolIds: string[] | null;
  updatedAt: string;
  updatedBy: string | null;
}

// ---- stores (the data plane implements these; nothing else writes those tables) ----

export interface MinerStore {
  list(): MinerView[];
  get(id: string): MinerView | undefined;
  /** Runtime additions through the API; throws MvmError CONFLICT when the id exists, FORBIDDEN for config miners. */
  add(def: Omit<MinerDefinition, 'source'>, actor: string): MinerView;
  update(id: string, patch: Partial<Omit<MinerDefinition, 'id' | 'source'>>, actor: string): MinerView;
  remove(id: string, actor: string): void;
  /** Makes the config-defined miners exactly `defs` (added/changed/removed), leaving API ones alone. */
  syncConfigMiners(
    defs: MinerDefinition[],
    by?: { actor: string; what: string },
  ): { added: string[]; changed: string[]; removed: string[] };
}

export interface EventStore {
  append(e: NewFleetEvent): FleetEvent;
  recent(opts?: { limit?: number; minerId?: string; kinds?: FleetEventKind[]; beforeId?: number }): FleetEvent[];
  /** Live feed for SSE / MQTT: called after each append. Returns an unsubscribe function. */
  subscribe(fn: (e: FleetEvent) => void): () => void;
}

export interface PoolStore {
  list(): PoolDefinition[];
  get(id: string): PoolDefinition | undefined;
  add(p: Omit<PoolDefinition, 'id'> & { id?: string }): PoolDefinition;
  update(id: string, patch: Partial<Omit<PoolDefinition, 'id'>>): PoolDefinition;
  /** Refuses (CONFLICT) while an assignment uses it. */
  remove(id: string): void;
  assignments(): PoolAssignment[];
  setAssignment(a: PoolAssignment): void;
  clearAssignment(scope: PoolAssignment['scope']): void;
  /** The ordered pools a miner should have (its own list, else its tags' in tag order), or null. */
  resolveFor(miner: MinerDefinition): PoolDefinition[] | null;
  /** The password in clear, for the actions that push pools to a device (nothing else may call it). */
  secret(id: string): string | null;
}

export interface DesiredStore {
  get(minerId: string): DesiredState | undefined;
  set(minerId: string, patch: Partial<Pick<DesiredState, 'mode' | 'paused' | 'poolIds'>>, actor: string): DesiredState;
}

export interface HistoryStore {
  /** Raw samples and their roll-ups; one transaction per call. */
  insert(samples: SampleRow[]): void;
  query(q: HistoryQuery): HistoryResult;
  /** Latest sample per miner (for the dashboard). */
  latest(): Map<string, SampleRow>;
}

/** The miners' live state: written by the collector (in batches), read by the API. */
export interface LiveStateStore {
  get(id: string): MinerLiveState | undefined;
  all(): Map<string, MinerLiveState>;
  /** Persists states (the collector's batches, once a second). */
  write(states: MinerLiveState[]): void;
  /** What readers see now, before the batch that persists it: a status and its event appear together. */
  show(state: MinerLiveState): void;
  remove(id: string): void;
}

/** Every store of the fleet database, built once by the daemon (fleet/store/index.ts createFleetStores). */
export interface FleetStores {
  miners: MinerStore;
  events: EventStore;
  pools: PoolStore;
  desired: DesiredStore;
  history: HistoryStore;
  live: LiveStateStore;
}

/** Fleet-wide numbers for the dashboard. */
export interface FleetStats {
  miners: number;
  online: number;
  offline: number;
  unknown: number;
  hashrateGhs: number;
  expectedHashrateGhs: number;
  powerW: number;
  /** J/TH over the miners reporting both power and hashrate */
  efficiencyJth: number | null;
  at: string;
}

/** What the collector exposes to the rest of the daemon. */
export interface CollectorHandle {
  /** Live updates: each new reading or status change. */
  onReading(fn: (minerId: string, t: Telemetry, status: MinerStatus) => void): () => void;
  /** Read one miner now (API "refresh", restart-and-wait). */
  pollNow(minerId: string, signal?: AbortSignal): Promise<Telemetry>;
  /** The miners' definitions changed (API edit, SIGHUP). */
  reload(): void;
  /** Suspend reads of a miner (a flash is in progress on it), resume after. */
  suspend(minerId: string, reason: string): void;
  resume(minerId: string): void;
  /** Duration of the last collection rounds, for /metrics. */
  stats(): { lastRoundMs: number | null; rounds: number; inFlight: number };
  stop(signal?: AbortSignal): Promise<void>;
}

// The job server's tunables. Defaults follow buildomat; tests shorten them to run in seconds.
import { CLIENT_LIMIT_DEFAULTS } from '../shared/http-limits.js';

export interface ServerConfig {
  /** Folder holding server.sqlite and the file bodies. */
  dataDir: string;
  host: string;
  port: number;
  /** How long a factory's lease on a queued job lasts (buildomat: 60 s). */
  leaseMs: number;
  /** A worker not bootstrapped within this is recycled (buildomat: 30 min). */
  bootstrapTimeoutMs: number;
  /** A bootstrapped worker silent for this long is failed with its job (buildomat: 10 min). */
  pingTimeoutMs: number;
  /** A job running longer than this (from assignment) fails and its worker is recycled. */
  maxRuntimeMs: number;
  /** The safety tick: timeouts are checked and dispatch retried this often. */
  tickMs: number;
  /** Upper bound for the mvm long-poll `wait_ms` parameters. */
  maxWaitMs: number;
  maxChunkBytes: number;
  maxBytesPerInput: number;
  maxBytesPerOutput: number;
  /** The whole request (headers and body) must arrive within this (a slow client is cut off). */
  requestTimeoutMs: number;
  maxConnectionsPerClient: number;
  /** Bytes of chunks not yet committed one job, and one user's jobs together, may hold. */
  maxUncommittedPerJob: number;
  maxUncommittedPerUser: number;
  /** Inputs, outputs and events of jobs ended longer ago than this are removed (undefined: kept). */
  retentionMs?: number;
}

export const DEFAULTS: Omit<ServerConfig, 'dataDir' | 'host' | 'port'> = {
  leaseMs: 60_000,
  bootstrapTimeoutMs: 30 * 60_000,
  pingTimeoutMs: 10 * 60_000,
  maxRuntimeMs: 3 * 60 * 60_000,
  tickMs: 1000,
  maxWaitMs: 60_000,
  maxChunkBytes: 10 * 1024 * 1024,
  maxBytesPerInput: 1024 * 1024 * 1024,
  maxBytesPerOutput: 1024 * 1024 * 1024,
  ...CLIENT_LIMIT_DEFAULTS,
  maxUncommittedPerJob: 2 * 1024 * 1024 * 1024,
  maxUncommittedPerUser: 4 * 1024 * 1024 * 1024,
};

// Everything a request handler or a background loop of the server needs, passed explicitly.
import type Database from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { Logger } from '../shared/log.js';
import type { Bus } from './bus.js';
import type { ServerConfig } from './config.js';
import type { ServerSchema } from './db/schema.js';
import type { FileStore } from './model/files.js';
import type { Leases } from './model/leases.js';

export interface ServerContext {
  cfg: ServerConfig;
  sqlite: Database.Database;
  db: BetterSQLite3Database<ServerSchema>;
  files: FileStore;
  bus: Bus;
  leases: Leases;
  log: Logger;
  now(): number;
  /** Assigns queued jobs to free workers now; called after every change that may allow one. */
  dispatch(): void;
  /** Output commits being assembled, per job: the job cannot complete while any is pending. */
  pendingCommits: Map<string, Map<string, Promise<void>>>;
  /** Workers with a long-poll ping held open right now: alive, whatever their last ping time. */
  heldPings: Map<string, number>;
  /** Set by POST /0/control/hold: factories get no new leases until resumed. */
  hold: boolean;
  /** Aborted when the server shuts down: long-polls and watch streams end. */
  stopping: AbortSignal;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

// Building every store of the fleet database at once (the daemon does it once at start).
import type { Logger } from '../../shared/log.js';
import type { RetentionConfig } from '../config/types.js';
import type { FleetDb } from '../db/open.js';
import { SqliteHistoryStore } from '../history/store.js';
import type { FleetStores } from '../types.js';
import { SqliteDesiredStore } from './desired.js';
import { SqliteEventStore } from './events.js';
import { SqliteLiveStateStore } from './live.js';
import { SqliteMinerStore } from './miners.js';
import { SqlitePoolStore } from './pools.js';

export interface SqliteFleetStores extends FleetStores {
  miners: SqliteMinerStore;
  events: SqliteEventStore;
  pools: SqlitePoolStore;
  desired: SqliteDesiredStore;
  history: SqliteHistoryStore;
  live: SqliteLiveStateStore;
}

export interface StoreOptions {
  now?: () => number;
  retention?: RetentionConfig;
  log?: Logger;
}

export function createFleetStores(db: FleetDb, opts: StoreOptions = {}): SqliteFleetStores {
  const now = opts.now ?? Date.now;
  const events = new SqliteEventStore(db.sqlite, now, opts.log);
  const live = new SqliteLiveStateStore(db.sqlite);
  return {
    events,
    live,
    miners: new SqliteMinerStore(db.sqlite, events, live, now),
    pools: new SqlitePoolStore(db.sqlite, now),
    desired: new SqliteDesiredStore(db.sqlite, now),
    history: new SqliteHistoryStore(db.sqlite, { now, ...(opts.retention ? { retention: opts.retention } : {}) }),
  };
}

export { computeFleetStats } from './stats.js';
export { PASSWORD_MASK, checkPool } from './pools.js';
export { checkMinerDefinition, FLEET_DRIVERS, MINER_ID } from './miners.js';

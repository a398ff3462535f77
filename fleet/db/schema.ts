// The fleet's SQLite schema (drizzle). Miners and their live state, events, the pool catalogue and
// assignments, desired states, and the history: raw samples plus per-minute and per-hour roll-ups.
// The history tables are WITHOUT ROWID, clustered on (miner, time): a chart reads one contiguous
// range, and a sample costs one b-tree entry (the migration adds the clause by hand).
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const miners = sqliteTable('miners', {
  id: text('id').primaryKey(),
  driver: text('driver').notNull(),
  address: text('address').notNull(),
  /** JSON object: the driver options. */
  options: text('options').notNull().default('{}'),
  model: text('model'),
  expectedHashrateGhs: real('expected_hashrate_ghs'),
  location: text('location'),
  /** JSON array of strings. */
  tags: text('tags').notNull().default('[]'),
  pollIntervalMs: integer('poll_interval_ms'),
  source: text('source', { enum: ['config', 'testbed', 'api'] }).notNull(),
  testbed: text('testbed'),
  hardware: text('hardware'),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/** What the collector knows of each miner now; a row per miner, written in the collector's batches. */
export const minerState = sqliteTable('miner_state', {
  minerId: text('miner_id').primaryKey(),
  status: text('status', { enum: ['unknown', 'online', 'offline'] })
    .notNull()
    .default('unknown'),
  missed: integer('missed').notNull().default(0),
  lastSeenAt: integer('last_seen_at'),
  /** JSON Telemetry without `raw`. */
  last: text('last'),
  lastError: text('last_error'),
});

export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: text('at').notNull(),
    minerId: text('miner_id'),
    kind: text('kind').notNull(),
    level: text('level', { enum: ['info', 'warn', 'error'] }).notNull(),
    message: text('message').notNull(),
    actor: text('actor'),
    /** JSON object or null. */
    data: text('data'),
  },
  (t) => [index('events_miner').on(t.minerId, t.id), index('events_kind').on(t.kind, t.id)],
);

export const pools = sqliteTable('pools', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  url: text('url').notNull(),
  port: integer('port').notNull(),
  user: text('user').notNull(),
  /** Stored as given; never listed (PoolStore.list masks it, secret() reads it). */
  password: text('password'),
  tls: integer('tls', { mode: 'boolean' }).notNull().default(false),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

export const poolAssignments = sqliteTable(
  'pool_assignments',
  {
    scopeKind: text('scope_kind', { enum: ['miner', 'tag'] }).notNull(),
    scopeValue: text('scope_value').notNull(),
    /** JSON array of pool ids, highest priority first. */
    poolIds: text('pool_ids').notNull(),
    /** Tag assignments apply in this order when a miner has several tags. */
    seq: integer('seq').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.scopeKind, t.scopeValue] })],
);

export const desired = sqliteTable('desired', {
  minerId: text('miner_id').primaryKey(),
  mode: text('mode'),
  paused: integer('paused', { mode: 'boolean' }),
  /** JSON array of pool ids or null. */
  poolIds: text('pool_ids'),
  updatedAt: text('updated_at').notNull(),
  updatedBy: text('updated_by'),
});

/** Raw samples (ms since epoch), kept for [fleet.retention] raw. */
export const samples = sqliteTable(
  'samples',
  {
    minerId: text('miner_id').notNull(),
    at: integer('at').notNull(),
    online: integer('online', { mode: 'boolean' }).notNull(),
    hashrateGhs: real('hashrate_ghs'),
    powerW: real('power_w'),
    efficiencyJth: real('efficiency_jth'),
    /** JSON {sensor: °C} */
    temperatures: text('temperatures'),
    fanRpm: real('fan_rpm'),
    fanPercent: real('fan_percent'),
    sharesAccepted: integer('shares_accepted'),
    sharesRejected: integer('shares_rejected'),
  },
  (t) => [primaryKey({ columns: [t.minerId, t.at] })],
);

/** The roll-up columns: per metric the count, sum (mean = sum / n), min and max of its non-null values. */
function rollupColumns() {
  const metric = (p: string) => ({
    [`${p}N`]: integer(`${p}_n`).notNull().default(0),
    [`${p}Sum`]: real(`${p}_sum`),
    [`${p}Min`]: real(`${p}_min`),
    [`${p}Max`]: real(`${p}_max`),
  });
  return {
    minerId: text('miner_id').notNull(),
    /** Bucket start, ms since epoch. */
    t: integer('t').notNull(),
    /** Samples in the bucket. */
    n: integer('n').notNull(),
    ...metric('hr'),
    ...metric('pw'),
    ...metric('ef'),
    ...metric('rpm'),
    ...metric('pct'),
    /** JSON {sensor: [n, sum, min, max]} */
    temperatures: text('temperatures'),
  };
}

export const samplesMinute = sqliteTable('samples_minute', rollupColumns(), (t) => [
  primaryKey({ columns: [t.minerId, t.t] }),
]);
export const samplesHour = sqliteTable('samples_hour', rollupColumns(), (t) => [
  primaryKey({ columns: [t.minerId, t.t] }),
]);

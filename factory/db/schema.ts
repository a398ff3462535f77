// The factory's SQLite schema (drizzle). Instances are history too: one row per job ever placed,
// so every query a tick makes goes through an index that covers live rows only.
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Instance states, as stored. The spellings are part of the on-disk format (a test pins them).
 */
export const INSTANCE_STATES = [
  /** A testbed is allocated and a worker created; the agent is being started, or has not come online. */
  'created',
  /** The agent is online and the worker flushed: the job runs. */
  'running',
  /** The job ended, was recycled or failed: stop the agent, delete the worker, free the testbed. */
  'destroying',
  /** Came to rest; a historical record. The testbed is free again. */
  'destroyed',
] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export const instances = sqliteTable(
  'instances',
  {
    /** ULID; also the worker's `private` on the server. */
    id: text('id').primaryKey(),
    testbed: text('testbed').notNull(),
    /** 1, 2, 3… per testbed. */
    seq: integer('seq').notNull(),
    /** Target id (ULID) the worker was created for. */
    target: text('target').notNull(),
    /** The job leased when the instance was made (the server may hand the worker another one). */
    job: text('job'),
    workerId: text('worker_id').notNull(),
    state: text('state', { enum: INSTANCE_STATES }).notNull(),
    createdAt: integer('created_at').notNull(),
    runningAt: integer('running_at'),
    destroyingAt: integer('destroying_at'),
    destroyedAt: integer('destroyed_at'),
    updatedAt: integer('updated_at').notNull(),
    /** Why the instance is being (or was) destroyed. */
    reason: text('reason'),
    /** Set when the instance ended by a failure of the infrastructure (agent died, timeouts). */
    failure: text('failure'),
    associated: integer('associated', { mode: 'boolean' }).notNull().default(false),
    agentPid: integer('agent_pid'),
    agentPgid: integer('agent_pgid'),
    agentStartedAt: integer('agent_started_at'),
    /** How stopping the agent ended: gone, terminated, killed. */
    stopOutcome: text('stop_outcome'),
    workerDeleted: integer('worker_deleted', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    uniqueIndex('instances_testbed_seq').on(t.testbed, t.seq),
    // The rule that makes double allocation impossible: one live instance per testbed.
    uniqueIndex('instances_live_testbed').on(t.testbed).where(sql`state <> 'destroyed'`),
    index('instances_live_state').on(t.state).where(sql`state <> 'destroyed'`),
    index('instances_worker').on(t.workerId),
  ],
);

export const testbeds = sqliteTable('testbeds', {
  name: text('name').primaryKey(),
  /** Mirrors the config at start-up; disabled testbeds get no new work. */
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  /** An infrastructure failure happened here: check the testbed's health before trusting it. */
  healthCheckDue: integer('health_check_due', { mode: 'boolean' }).notNull().default(false),
  healthReason: text('health_reason'),
  flaggedAt: integer('flagged_at'),
  /** Still in the config file (false: listed from history only). */
  configured: integer('configured', { mode: 'boolean' }).notNull().default(true),
  updatedAt: integer('updated_at').notNull(),
});

/** Append-only journal of what the factory did and why. */
export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    instanceId: text('instance_id'),
    testbed: text('testbed'),
    kind: text('kind').notNull(),
    message: text('message').notNull(),
  },
  (t) => [index('events_instance').on(t.instanceId), index('events_testbed_at').on(t.testbed, t.at)],
);

export const schema = { instances, testbeds, events };
export type Schema = typeof schema;
export type InstanceRow = typeof instances.$inferSelect;
export type TestbedRow = typeof testbeds.$inferSelect;
export type EventRow = typeof events.$inferSelect;

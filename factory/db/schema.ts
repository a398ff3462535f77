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
    /** Whether the runner read an infrastructure-failure report in the agent's workdir (done once). */
    infraChecked: integer('infra_checked', { mode: 'boolean' }).notNull().default(false),
    /** How restoring the testbed's baseline ended: "ok: …", "skipped: …" or "failed: …". */
    restoreOutcome: text('restore_outcome'),
  },
  (t) => [
    uniqueIndex('instances_testbed_seq').on(t.testbed, t.seq),
    // The rule that makes double allocation impossible: one live instance per testbed.
    uniqueIndex('instances_live_testbed')
      .on(t.testbed)
      .where(sql`state <> 'destroyed'`),
    index('instances_live_state')
      .on(t.state)
      .where(sql`state <> 'destroyed'`),
    index('instances_worker').on(t.workerId),
    index('instances_job').on(t.job),
  ],
);

/**
 * Testbed health, as stored (a test pins the spellings). Only `good` testbeds take jobs (and, with
 * quarantine_unhealthy = false, `unknown` ones too); a testbed is checked through the runner before
 * it is trusted again.
 */
export const HEALTH_STATES = [
  /** Not known to work: new, or after an infrastructure failure or maintenance. A check is due. */
  'unknown',
  /** A health check (baseline restore, then the runner's health check) runs; it holds the lock. */
  'checking',
  /** The last check passed. Takes jobs; checked again on the schedule. */
  'good',
  /** bad_after checks in a row failed. No jobs and no automatic checks until a person acts. */
  'bad',
  /** A person took it out of service for work on the bench. No jobs, no checks. */
  'maintenance',
  /** Decommissioned: kept for its history only. Recommissioning makes it unknown again. */
  'retired',
] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

export const testbeds = sqliteTable('testbeds', {
  name: text('name').primaryKey(),
  /** Mirrors the config at start-up; disabled testbeds get no new work. */
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  health: text('health', { enum: HEALTH_STATES }).notNull().default('unknown'),
  /** Why the testbed is in its health state (the failure, the check's summary, the person's reason). */
  healthReason: text('health_reason'),
  healthChangedAt: integer('health_changed_at'),
  /** Checks failed in a row (reset by a passing check or a person). */
  checkFailures: integer('check_failures').notNull().default(0),
  lastCheckAt: integer('last_check_at'),
  /** When the next check may start (a backoff after failures, the schedule when good). */
  nextCheckAt: integer('next_check_at'),
  /** Set while the host its agent runs on cannot be used (SSH preflight failed): the reason. */
  unavailable: text('unavailable'),
  unavailableSince: integer('unavailable_since'),
  /** Still in the config file (false: listed from history only). */
  configured: integer('configured', { mode: 'boolean' }).notNull().default(true),
  updatedAt: integer('updated_at').notNull(),
});

/** What holds a testbed. Jobs, people and health checks share this one table: one row, one holder. */
export const LOCK_KINDS = [
  /** A live instance (from creation until destroyed, baseline restore included). holder = instance id. */
  'job',
  /** A person's reservation, until released or its TTL lapses. holder = reservation id. */
  'reservation',
  /** A health check in progress. holder = check id. */
  'check',
  /** The baseline restore after a reservation ended, until its outcome is recorded. holder = restore id. */
  'restore',
] as const;
export type LockKind = (typeof LOCK_KINDS)[number];

export const locks = sqliteTable(
  'locks',
  {
    /** The primary key is the rule: a testbed has at most one holder. */
    testbed: text('testbed').primaryKey(),
    kind: text('kind', { enum: LOCK_KINDS }).notNull(),
    holder: text('holder').notNull(),
    /** The API user for a reservation; "factory" otherwise. */
    owner: text('owner').notNull(),
    reason: text('reason'),
    acquiredAt: integer('acquired_at').notNull(),
    renewedAt: integer('renewed_at'),
    /** Reservations only: when the lock lapses. */
    expiresAt: integer('expires_at'),
    /** Reservations only: restore the baseline when it ends (an admin may say no: a bench set up by hand). */
    restoreOnRelease: integer('restore_on_release', { mode: 'boolean' }).notNull().default(true),
  },
  (t) => [
    index('locks_expires')
      .on(t.expiresAt)
      .where(sql`expires_at IS NOT NULL`),
  ],
);

/** People and programs that use the factory's HTTP API (reservations). Tokens are stored hashed. */
export const apiUsers = sqliteTable('api_users', {
  name: text('name').primaryKey(),
  tokenHash: text('token_hash').notNull().unique(),
  admin: integer('admin', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull(),
});

/**
 * Targets that stand for a device requirement (a test definition's devices). A testbed serves one
 * when its devices satisfy the requirement; the target itself lives on the job server.
 */
export const requirementTargets = sqliteTable('requirement_targets', {
  name: text('name').primaryKey(),
  targetId: text('target_id').notNull(),
  /** Canonical JSON of the requirement: [{ hardware?, attributes[] }]. */
  requirement: text('requirement').notNull(),
  createdAt: integer('created_at').notNull(),
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

export const schema = { instances, testbeds, locks, apiUsers, requirementTargets, events };
export type Schema = typeof schema;
export type InstanceRow = typeof instances.$inferSelect;
export type TestbedRow = typeof testbeds.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type LockRow = typeof locks.$inferSelect;
export type ApiUserRow = typeof apiUsers.$inferSelect;
export type RequirementTargetRow = typeof requirementTargets.$inferSelect;

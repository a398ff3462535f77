// The job server's tables. Times are epoch milliseconds; JSON columns hold small structured values.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Server-wide settings (the admin token hash). */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const targets = sqliteTable(
  'targets',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    desc: text('desc').notNull(),
    /** Another target's id: a job submitted for this name runs on that target instead. */
    redirect: text('redirect'),
    privilege: text('privilege'),
    timeCreate: integer('time_create').notNull(),
  },
  (t) => [uniqueIndex('targets_name').on(t.name)],
);

export const factories = sqliteTable(
  'factories',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    enable: integer('enable', { mode: 'boolean' }).notNull().default(true),
    holdWorkers: integer('hold_workers', { mode: 'boolean' }).notNull().default(false),
    lastPing: integer('last_ping'),
    timeCreate: integer('time_create').notNull(),
  },
  (t) => [uniqueIndex('factories_token').on(t.tokenHash)],
);

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    privileges: text('privileges', { mode: 'json' })
      .$type<string[]>()
      .notNull()
      .default(sql`'[]'`),
    timeCreate: integer('time_create').notNull(),
  },
  (t) => [uniqueIndex('users_name').on(t.name), uniqueIndex('users_token').on(t.tokenHash)],
);

export interface OutputRuleRow {
  rule: string;
  ignore: boolean;
  size_change_ok: boolean;
  require_match: boolean;
}

export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    owner: text('owner')
      .notNull()
      .references(() => users.id),
    name: text('name').notNull(),
    /** The target name as submitted. */
    target: text('target').notNull(),
    /** The target the name resolved to (through redirects). */
    targetId: text('target_id')
      .notNull()
      .references(() => targets.id),
    outputRules: text('output_rules', { mode: 'json' }).$type<OutputRuleRow[]>().notNull(),
    tags: text('tags', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    /** Names of the inputs declared at submit; the job waits until each is attached. */
    inputNames: text('input_names', { mode: 'json' }).$type<string[]>().notNull(),
    waiting: integer('waiting', { mode: 'boolean' }).notNull(),
    complete: integer('complete', { mode: 'boolean' }).notNull().default(false),
    failed: integer('failed', { mode: 'boolean' }).notNull().default(false),
    cancelled: integer('cancelled', { mode: 'boolean' }).notNull().default(false),
    worker: text('worker'),
    /** The last event sequence number used (events are numbered from 1). */
    eventSeq: integer('event_seq').notNull().default(0),
    timeSubmit: integer('time_submit').notNull(),
    timeReady: integer('time_ready'),
    timeAssigned: integer('time_assigned'),
    timeComplete: integer('time_complete'),
  },
  (t) => [index('jobs_pending').on(t.complete, t.waiting, t.worker), index('jobs_owner').on(t.owner)],
);

export const tasks = sqliteTable(
  'tasks',
  {
    job: text('job')
      .notNull()
      .references(() => jobs.id),
    seq: integer('seq').notNull(),
    name: text('name').notNull(),
    script: text('script').notNull(),
    envClear: integer('env_clear', { mode: 'boolean' }).notNull(),
    env: text('env', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    uid: integer('uid'),
    gid: integer('gid'),
    workdir: text('workdir'),
    complete: integer('complete', { mode: 'boolean' }).notNull().default(false),
    failed: integer('failed', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.job, t.seq] })],
);

export const events = sqliteTable(
  'events',
  {
    job: text('job')
      .notNull()
      .references(() => jobs.id),
    seq: integer('seq').notNull(),
    task: integer('task'),
    stream: text('stream').notNull(),
    time: integer('time').notNull(),
    timeRemote: integer('time_remote'),
    payload: text('payload').notNull(),
  },
  (t) => [primaryKey({ columns: [t.job, t.seq] })],
);

export const workers = sqliteTable(
  'workers',
  {
    id: text('id').primaryKey(),
    factory: text('factory')
      .notNull()
      .references(() => factories.id),
    target: text('target')
      .notNull()
      .references(() => targets.id),
    /** Handed to the agent, which trades it for its own token at bootstrap. */
    bootstrap: text('bootstrap').notNull(),
    /** Hash of the token the agent chose at bootstrap; null until then. */
    tokenHash: text('token_hash'),
    private: text('private'),
    ip: text('ip'),
    metadata: text('metadata', { mode: 'json' }).$type<unknown>(),
    /** The job the factory leased when it created this worker (a hint for assignment). */
    leaseJob: text('lease_job'),
    waitForFlush: integer('wait_for_flush', { mode: 'boolean' }).notNull(),
    flushed: integer('flushed', { mode: 'boolean' }).notNull().default(false),
    recycle: integer('recycle', { mode: 'boolean' }).notNull().default(false),
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
    hold: integer('hold', { mode: 'boolean' }).notNull().default(false),
    job: text('job'),
    timeCreate: integer('time_create').notNull(),
    timeBootstrap: integer('time_bootstrap'),
    lastPing: integer('last_ping'),
  },
  (t) => [
    index('workers_factory').on(t.factory),
    index('workers_live').on(t.deleted, t.recycle, t.job),
    // Every worker request looks its token up; workers are single-use, so the table only grows.
    index('workers_token').on(t.tokenHash),
    index('workers_bootstrap').on(t.bootstrap),
  ],
);

/** Uploaded chunks (user input pieces and worker output pieces); bodies live on disk. */
export const chunks = sqliteTable(
  'chunks',
  {
    id: text('id').primaryKey(),
    job: text('job')
      .notNull()
      .references(() => jobs.id),
    size: integer('size').notNull(),
    timeCreate: integer('time_create').notNull(),
  },
  (t) => [index('chunks_job').on(t.job)],
);

export const inputs = sqliteTable(
  'inputs',
  {
    id: text('id').primaryKey(),
    job: text('job')
      .notNull()
      .references(() => jobs.id),
    name: text('name').notNull(),
    size: integer('size').notNull(),
    commitId: text('commit_id').notNull(),
    timeCreate: integer('time_create').notNull(),
  },
  (t) => [uniqueIndex('inputs_job_name').on(t.job, t.name)],
);

export const outputs = sqliteTable(
  'outputs',
  {
    id: text('id').primaryKey(),
    job: text('job')
      .notNull()
      .references(() => jobs.id),
    path: text('path').notNull(),
    size: integer('size').notNull(),
    commitId: text('commit_id').notNull(),
    timeCreate: integer('time_create').notNull(),
  },
  (t) => [uniqueIndex('outputs_job_commit').on(t.job, t.commitId), index('outputs_job').on(t.job)],
);

export const schema = { settings, targets, factories, users, jobs, tasks, events, workers, chunks, inputs, outputs };
export type ServerSchema = typeof schema;

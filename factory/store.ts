// The one module that changes instance and testbed state. Every change runs in an IMMEDIATE
// transaction that re-reads the row first, so two passes (or two processes) never act on a stale
// view; an illegal transition throws IllegalTransitionError. No network call ever happens in here.
import { and, asc, desc, eq, max, sql } from 'drizzle-orm';
import { immediate, openDb, type OpenedDb } from '../shared/db.js';
import { IllegalTransitionError, MvmError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { projectPath } from '../shared/paths.js';
import {
  events,
  instances,
  locks,
  schema,
  testbeds,
  type EventRow,
  type InstanceRow,
  type InstanceState,
  type LockRow,
  type Schema,
  type TestbedRow,
} from './db/schema.js';
import { blockers, isFree, type AvailabilityPolicy, type Blocker } from './availability.js';
import { journal, type JournalWhere } from './journal.js';
import { releaseLock, takeLock } from './locks.js';
import { RequirementTargets } from './requirement-targets.js';
import { Reservations } from './reservations.js';
import { DEFAULT_POLICY, flagInfraFailure, TestbedHealth, type HealthPolicy } from './testbed-health.js';

/**
 * Live instances through the partial index. The condition is a literal (not a bound parameter) so
 * the planner matches the index's WHERE, and there is no ORDER BY: sorting by id would make it scan
 * the primary key over the whole history instead. The few live rows are sorted in memory.
 */
export function liveInstancesQuery(db: OpenedDb<Schema>['db']) {
  return db
    .select()
    .from(instances)
    .where(sql`${instances.state} <> 'destroyed'`);
}

/** The transitions the instance state machine allows. */
const ALLOWED: Record<InstanceState, readonly InstanceState[]> = {
  created: ['running', 'destroying'],
  running: ['destroying'],
  destroying: ['destroyed'],
  destroyed: [],
};

export function canTransition(from: InstanceState, to: InstanceState): boolean {
  return ALLOWED[from].includes(to);
}

export interface NewInstance {
  testbed: string;
  target: string;
  job?: string | null;
  workerId: string;
}

export interface AgentRecord {
  pid: number;
  pgid: number;
  startedAt: number;
}

/** The destroy reasons that count as an agent start attempt that failed. */
export const AGENT_START_FAILURES: readonly string[] = ['agent never came online', 'agent failed to start'];

export interface DestroyCause {
  reason: string;
  /** An infrastructure failure: recorded, and the testbed flagged for a health check. */
  failure?: string;
}

export interface TestbedView extends TestbedRow {
  /** The live instance on it, if any. */
  instance?: InstanceRow;
  /** What holds it (a job, a reservation, a check), if anything. */
  lock?: LockRow;
}

/** A restore's end, as recorded on the instance. */
export interface RestoreOutcome {
  ok: boolean;
  /** "skipped" when there was nothing to restore. */
  skipped?: boolean;
  message: string;
}

export class FactoryStore {
  readonly opened: OpenedDb<Schema>;
  readonly now: () => number;
  /** Testbed health: checks, maintenance, decommissioning (the only module that changes it). */
  readonly health: TestbedHealth;
  /** People's reservations (locks of kind "reservation"). */
  readonly reservations: Reservations;
  /** Targets standing for device requirements. */
  readonly requirementTargets: RequirementTargets;

  constructor(opened: OpenedDb<Schema>, now: () => number = Date.now, policy: HealthPolicy = DEFAULT_POLICY) {
    this.opened = opened;
    this.now = now;
    this.health = new TestbedHealth(opened, now, policy);
    this.reservations = new Reservations(opened, now);
    this.requirementTargets = new RequirementTargets(opened, now);
  }

  static open(file: string, now?: () => number, policy?: HealthPolicy): FactoryStore {
    return new FactoryStore(
      openDb(file, schema, { migrationsFolder: projectPath('factory', 'migrations') }),
      now,
      policy,
    );
  }

  private get db() {
    return this.opened.db;
  }

  private tx<T>(fn: () => T): T {
    return immediate(this.opened.sqlite, fn);
  }

  close(): void {
    this.opened.close();
  }

  // ---- reads ----

  /** Instances not yet destroyed (uses the partial index: flat however long the history is). */
  liveInstances(): InstanceRow[] {
    return liveInstancesQuery(this.db)
      .all()
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  instance(id: string): InstanceRow | undefined {
    return this.db.select().from(instances).where(eq(instances.id, id)).get();
  }

  /** Instances (any state) that name this worker; normally one. */
  instancesByWorker(workerId: string): InstanceRow[] {
    return this.db.select().from(instances).where(eq(instances.workerId, workerId)).all();
  }

  /** Instances of `job` ended for one of `reasons` (agents that did not start or come online). */
  agentStartFailures(job: string, reasons: readonly string[]): string[] {
    return this.db
      .select({ id: instances.id, reason: instances.reason })
      .from(instances)
      .where(eq(instances.job, job))
      .all()
      .filter((r) => r.reason !== null && reasons.includes(r.reason))
      .map((r) => r.id);
  }

  testbeds(): TestbedRow[] {
    return this.db.select().from(testbeds).orderBy(asc(testbeds.name)).all();
  }

  testbed(name: string): TestbedRow | undefined {
    return this.db.select().from(testbeds).where(eq(testbeds.name, name)).get();
  }

  testbedViews(): TestbedView[] {
    const live = new Map(this.liveInstances().map((i) => [i.testbed, i]));
    const held = new Map(
      this.db
        .select()
        .from(locks)
        .all()
        .map((l) => [l.testbed, l]),
    );
    return this.testbeds().map((t) => {
      const i = live.get(t.name);
      const l = held.get(t.name);
      return { ...t, ...(i ? { instance: i } : {}), ...(l ? { lock: l } : {}) };
    });
  }

  /** Why each testbed cannot take a job now (an empty list: it can). */
  blockersByTestbed(policy: AvailabilityPolicy): Map<string, Blocker[]> {
    return new Map(this.testbedViews().map((v) => [v.name, blockers({ testbed: v, lock: v.lock }, policy)]));
  }

  /** Testbeds that can take a job now: configured, enabled, healthy enough, and held by nothing. */
  freeTestbeds(quarantineUnhealthy: boolean): string[] {
    return this.testbedViews()
      .filter((v) => isFree({ testbed: v, lock: v.lock }, { quarantineUnhealthy }))
      .map((v) => v.name);
  }

  recentInstances(limit: number): InstanceRow[] {
    return this.db.select().from(instances).orderBy(desc(instances.id)).limit(limit).all();
  }

  countsByState(): Record<InstanceState, number> {
    const out: Record<InstanceState, number> = { created: 0, running: 0, destroying: 0, destroyed: 0 };
    const rows = this.db
      .select({ state: instances.state, n: sql<number>`count(*)` })
      .from(instances)
      .groupBy(instances.state)
      .all();
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  eventsFor(instanceId: string): EventRow[] {
    return this.db.select().from(events).where(eq(events.instanceId, instanceId)).orderBy(asc(events.id)).all();
  }

  /** The newest journal entries about a testbed (its instances' included), newest first. */
  testbedHistory(name: string, limit: number): EventRow[] {
    return this.db.select().from(events).where(eq(events.testbed, name)).orderBy(desc(events.id)).limit(limit).all();
  }

  /** The newest instances that ran on a testbed, newest first. */
  testbedInstances(name: string, limit: number): InstanceRow[] {
    return this.db
      .select()
      .from(instances)
      .where(eq(instances.testbed, name))
      .orderBy(desc(instances.seq))
      .limit(limit)
      .all();
  }

  // ---- testbeds ----

  /** Makes the testbeds table match the config: new ones added, `enabled` mirrored, removed ones kept as history. */
  syncTestbeds(configured: Array<{ name: string; enabled: boolean }>): void {
    const now = this.now();
    this.tx(() => {
      const names = new Set(configured.map((t) => t.name));
      for (const t of configured) {
        this.db
          .insert(testbeds)
          .values({ name: t.name, enabled: t.enabled, configured: true, updatedAt: now })
          .onConflictDoUpdate({ target: testbeds.name, set: { enabled: t.enabled, configured: true, updatedAt: now } })
          .run();
      }
      for (const t of this.testbeds()) {
        if (!names.has(t.name) && t.configured) {
          this.db.update(testbeds).set({ configured: false, updatedAt: now }).where(eq(testbeds.name, t.name)).run();
        }
      }
    });
  }

  // ---- instance transitions ----

  /**
   * Records a new instance in `created` on a testbed that must still be free (re-checked here).
   * Throws CONFLICT when the testbed already has a live instance.
   */
  createInstance(n: NewInstance): InstanceRow {
    const now = this.now();
    return this.tx(() => {
      const tb = this.db.select().from(testbeds).where(eq(testbeds.name, n.testbed)).get();
      if (!tb) throw new MvmError('NOT_FOUND', `testbed ${n.testbed} is not known`);
      const id = newId(now);
      // Throws CONFLICT when a reservation or a health check holds the testbed.
      takeLock(
        this.db,
        {
          testbed: n.testbed,
          kind: 'job',
          holder: id,
          owner: 'factory',
          reason: `${n.job ? `job ${n.job}` : `worker ${n.workerId}`} (instance ${id})`,
        },
        now,
      );
      const busy = this.db
        .select({ id: instances.id })
        .from(instances)
        .where(and(eq(instances.testbed, n.testbed), sql`${instances.state} <> 'destroyed'`))
        .get();
      if (busy) {
        throw new MvmError('CONFLICT', `testbed ${n.testbed} already runs instance ${busy.id}`, {
          hint: 'a testbed takes one instance at a time',
        });
      }
      const last = this.db
        .select({ seq: max(instances.seq) })
        .from(instances)
        .where(eq(instances.testbed, n.testbed))
        .get();
      const row: typeof instances.$inferInsert = {
        id,
        testbed: n.testbed,
        seq: (last?.seq ?? 0) + 1,
        target: n.target,
        job: n.job ?? null,
        workerId: n.workerId,
        state: 'created',
        createdAt: now,
        updatedAt: now,
      };
      this.db.insert(instances).values(row).run();
      this.journal(
        'created',
        `instance created for worker ${n.workerId}, target ${n.target}${n.job ? `, job ${n.job}` : ''}`,
        {
          instanceId: row.id,
          testbed: n.testbed,
        },
      );
      return this.mustGet(row.id);
    });
  }

  recordAssociated(id: string): InstanceRow {
    return this.update(
      id,
      ['created', 'running'],
      { associated: true },
      'associated',
      'worker associated (private = instance id)',
    );
  }

  recordAgent(id: string, a: AgentRecord): InstanceRow {
    return this.update(
      id,
      ['created', 'running'],
      { agentPid: a.pid, agentPgid: a.pgid, agentStartedAt: a.startedAt },
      'agent-started',
      `agent running as pid ${a.pid} (group ${a.pgid})`,
    );
  }

  markRunning(id: string): InstanceRow {
    return this.transition(id, 'running', { runningAt: this.now() }, 'agent online, worker flushed');
  }

  /**
   * created|running → destroying. Already destroying: a no-op that returns the row (the next pass
   * may decide the same thing twice). A failure flags the testbed for a health check in the same
   * transaction, so a crash cannot free the testbed without the flag.
   */
  markDestroying(id: string, cause: DestroyCause): InstanceRow {
    const now = this.now();
    return this.tx(() => {
      const row = this.mustGet(id);
      if (row.state === 'destroying') return row;
      if (!canTransition(row.state, 'destroying'))
        throw new IllegalTransitionError(`instance ${id}`, row.state, 'destroying');
      this.db
        .update(instances)
        .set({
          state: 'destroying',
          destroyingAt: now,
          updatedAt: now,
          reason: cause.reason,
          failure: cause.failure ?? null,
        })
        .where(eq(instances.id, id))
        .run();
      this.journal('destroying', cause.failure ? `${cause.reason}: ${cause.failure}` : cause.reason, {
        instanceId: id,
        testbed: row.testbed,
      });
      if (cause.failure)
        flagInfraFailure(
          this.db,
          now,
          row.testbed,
          `${cause.reason}: ${cause.failure} (instance ${id})`,
          this.startFailureBackoff(row.testbed),
        );
      return this.mustGet(id);
    });
  }

  /**
   * A testbed whose agents keep failing to start or come online is checked again after a backoff
   * (retry, doubling), not at once: a check passes (the devices are fine) and the next job fails
   * the same way. 0 for the first failure in a row. Call inside the transaction that recorded it.
   */
  private startFailureBackoff(testbed: string): number {
    const recent = this.db
      .select({ reason: instances.reason })
      .from(instances)
      .where(eq(instances.testbed, testbed))
      .orderBy(desc(instances.seq))
      .limit(12)
      .all();
    let streak = 0;
    for (const r of recent) {
      if (r.reason === null || !AGENT_START_FAILURES.includes(r.reason)) break;
      streak++;
    }
    if (streak < 2) return 0;
    return Math.min(this.health.policy.retryMs * 2 ** (streak - 2), 3_600_000);
  }

  recordStopOutcome(id: string, outcome: string): InstanceRow {
    return this.update(id, ['destroying'], { stopOutcome: outcome }, 'agent-stopped', `agent stopped: ${outcome}`);
  }

  /**
   * The agent's processes survived SIGKILL (or may not be signalled): journalled, and the testbed
   * quarantined with the reason, once per instance. The stop is retried; the lock stays held.
   */
  recordStuck(id: string, reason: string): void {
    const now = this.now();
    this.tx(() => {
      const row = this.mustGet(id);
      const already = this.db
        .select()
        .from(events)
        .where(and(eq(events.instanceId, id), eq(events.kind, 'agent-stuck')))
        .get();
      if (already) return;
      this.journal(
        'agent-stuck',
        `agent processes cannot be stopped: ${reason}; the testbed stays out of use until they are gone`,
        { instanceId: id, testbed: row.testbed },
      );
      flagInfraFailure(this.db, now, row.testbed, `processes of instance ${id} cannot be stopped: ${reason}`);
    });
  }

  recordWorkerDeleted(id: string): InstanceRow {
    return this.update(id, ['destroying'], { workerDeleted: true }, 'worker-deleted', 'worker deleted on the server');
  }

  /**
   * What the runner reported in the job (infra-failures.jsonl): any line is an infrastructure
   * failure (a device unreachable, a flash failed) and flags the testbed, in the same transaction.
   */
  recordInfraReport(id: string, failures: string[]): InstanceRow {
    const now = this.now();
    return this.tx(() => {
      const row = this.mustGet(id);
      if (row.state !== 'destroying')
        throw new IllegalTransitionError(
          `instance ${id}`,
          row.state,
          row.state,
          'the infrastructure report is read in destroying',
        );
      if (row.infraChecked) return row;
      const failure = failures.length
        ? `the job reported an infrastructure failure: ${failures[0]}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`
        : null;
      this.db
        .update(instances)
        .set({ infraChecked: true, updatedAt: now, ...(failure && row.failure === null ? { failure } : {}) })
        .where(eq(instances.id, id))
        .run();
      if (failure) {
        this.journal('infra-failure', failure, { instanceId: id, testbed: row.testbed });
        flagInfraFailure(this.db, now, row.testbed, `${failure} (instance ${id})`);
      }
      return this.mustGet(id);
    });
  }

  /** How restoring the baseline ended; a failure is an infrastructure failure of the testbed. */
  recordRestore(id: string, r: RestoreOutcome): InstanceRow {
    const now = this.now();
    return this.tx(() => {
      const row = this.mustGet(id);
      if (row.state !== 'destroying')
        throw new IllegalTransitionError(`instance ${id}`, row.state, row.state, 'a restore is recorded in destroying');
      if (row.restoreOutcome !== null) return row;
      const outcome = `${r.ok ? (r.skipped ? 'skipped' : 'ok') : 'failed'}: ${r.message}`;
      this.db.update(instances).set({ restoreOutcome: outcome, updatedAt: now }).where(eq(instances.id, id)).run();
      const kind = !r.ok ? 'restore-failed' : r.skipped ? 'restore-skipped' : 'restored';
      const text = !r.ok
        ? `baseline restore failed: ${r.message}`
        : r.skipped
          ? `baseline restore skipped: ${r.message}`
          : `baseline restored: ${r.message}`;
      this.journal(kind, text, { instanceId: id, testbed: row.testbed });
      if (!r.ok)
        flagInfraFailure(this.db, now, row.testbed, `baseline restore after instance ${id} failed: ${r.message}`);
      return this.mustGet(id);
    });
  }

  /** destroying → destroyed: the lock goes in the same transaction, so the testbed is free exactly then. */
  markDestroyed(id: string): InstanceRow {
    const now = this.now();
    return this.tx(() => {
      const row = this.mustGet(id);
      if (!canTransition(row.state, 'destroyed'))
        throw new IllegalTransitionError(`instance ${id}`, row.state, 'destroyed');
      this.db
        .update(instances)
        .set({ state: 'destroyed', destroyedAt: now, updatedAt: now })
        .where(eq(instances.id, id))
        .run();
      releaseLock(this.db, row.testbed, id);
      this.journal('destroyed', 'instance destroyed; testbed released', { instanceId: id, testbed: row.testbed });
      return this.mustGet(id);
    });
  }

  journal(kind: string, message: string, where: JournalWhere = {}): void {
    journal(this.db, this.now(), kind, message, where);
  }

  // ---- internals ----

  private mustGet(id: string): InstanceRow {
    const row = this.instance(id);
    if (!row) throw new MvmError('NOT_FOUND', `instance ${id} does not exist`);
    return row;
  }

  private transition(id: string, to: InstanceState, patch: Partial<InstanceRow>, message: string): InstanceRow {
    const now = this.now();
    return this.tx(() => {
      const row = this.mustGet(id);
      if (!canTransition(row.state, to)) throw new IllegalTransitionError(`instance ${id}`, row.state, to);
      this.db
        .update(instances)
        .set({ ...patch, state: to, updatedAt: now })
        .where(eq(instances.id, id))
        .run();
      this.journal(to, message, { instanceId: id, testbed: row.testbed });
      return this.mustGet(id);
    });
  }

  private update(
    id: string,
    states: InstanceState[],
    patch: Partial<InstanceRow>,
    kind: string,
    message: string,
  ): InstanceRow {
    const now = this.now();
    return this.tx(() => {
      const row = this.mustGet(id);
      if (!states.includes(row.state)) {
        throw new IllegalTransitionError(
          `instance ${id}`,
          row.state,
          row.state,
          `${kind} is only recorded in ${states.join(' or ')}`,
        );
      }
      this.db
        .update(instances)
        .set({ ...patch, updatedAt: now })
        .where(eq(instances.id, id))
        .run();
      this.journal(kind, message, { instanceId: id, testbed: row.testbed });
      return this.mustGet(id);
    });
  }
}

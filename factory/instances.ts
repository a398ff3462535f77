// The one module that changes instance and testbed state. Every change runs in an IMMEDIATE
// transaction that re-reads the row first, so two passes (or two processes) never act on a stale
// view; an illegal transition throws IllegalTransitionError. No network call ever happens in here.
import { and, asc, desc, eq, max, ne, sql } from 'drizzle-orm';
import { immediate, openDb, type OpenedDb } from '../shared/db.js';
import { IllegalTransitionError, MvmError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import { projectPath } from '../shared/paths.js';
import { events, instances, schema, testbeds, type EventRow, type InstanceRow, type InstanceState, type Schema, type TestbedRow } from './db/schema.js';

/**
 * Live instances through the partial index. The condition is a literal (not a bound parameter) so
 * the planner matches the index's WHERE, and there is no ORDER BY: sorting by id would make it scan
 * the primary key over the whole history instead. The few live rows are sorted in memory.
 */
export function liveInstancesQuery(db: OpenedDb<Schema>['db']) {
  return db.select().from(instances).where(sql`${instances.state} <> 'destroyed'`);
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

export interface DestroyCause {
  reason: string;
  /** An infrastructure failure: recorded, and the testbed flagged for a health check. */
  failure?: string;
}

export interface TestbedView extends TestbedRow {
  /** The live instance on it, if any. */
  instance?: InstanceRow;
}

export class FactoryStore {
  readonly opened: OpenedDb<Schema>;
  readonly now: () => number;

  constructor(opened: OpenedDb<Schema>, now: () => number = Date.now) {
    this.opened = opened;
    this.now = now;
  }

  static open(file: string, now?: () => number): FactoryStore {
    return new FactoryStore(openDb(file, schema, { migrationsFolder: projectPath('factory', 'migrations') }), now);
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

  testbeds(): TestbedRow[] {
    return this.db.select().from(testbeds).orderBy(asc(testbeds.name)).all();
  }

  testbedViews(): TestbedView[] {
    const live = new Map(this.liveInstances().map((i) => [i.testbed, i]));
    return this.testbeds().map((t) => {
      const i = live.get(t.name);
      return i ? { ...t, instance: i } : { ...t };
    });
  }

  /** Configured, enabled testbeds with no live instance (and, when quarantining, no health check due). */
  freeTestbeds(quarantineUnhealthy: boolean): string[] {
    const busy = new Set(this.liveInstances().map((i) => i.testbed));
    return this.testbeds()
      .filter((t) => t.configured && t.enabled && !busy.has(t.name) && !(quarantineUnhealthy && t.healthCheckDue))
      .map((t) => t.name);
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

  /** Clears a testbed's health-check flag (after a health check passed, or by an operator). */
  clearHealthCheck(name: string, why: string): void {
    this.tx(() => {
      this.db.update(testbeds).set({ healthCheckDue: false, healthReason: null, flaggedAt: null, updatedAt: this.now() }).where(eq(testbeds.name, name)).run();
      this.journal('health-cleared', why, { testbed: name });
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
      const last = this.db.select({ seq: max(instances.seq) }).from(instances).where(eq(instances.testbed, n.testbed)).get();
      const row: typeof instances.$inferInsert = {
        id: newId(now),
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
      this.journal('created', `instance created for worker ${n.workerId}, target ${n.target}${n.job ? `, job ${n.job}` : ''}`, {
        instanceId: row.id,
        testbed: n.testbed,
      });
      return this.mustGet(row.id);
    });
  }

  recordAssociated(id: string): InstanceRow {
    return this.update(id, ['created', 'running'], { associated: true }, 'associated', 'worker associated (private = instance id)');
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
      if (!canTransition(row.state, 'destroying')) throw new IllegalTransitionError(`instance ${id}`, row.state, 'destroying');
      this.db
        .update(instances)
        .set({ state: 'destroying', destroyingAt: now, updatedAt: now, reason: cause.reason, failure: cause.failure ?? null })
        .where(eq(instances.id, id))
        .run();
      this.journal('destroying', cause.failure ? `${cause.reason}: ${cause.failure}` : cause.reason, { instanceId: id, testbed: row.testbed });
      if (cause.failure) {
        this.db
          .update(testbeds)
          .set({ healthCheckDue: true, healthReason: `${cause.reason}: ${cause.failure}`, flaggedAt: now, updatedAt: now })
          .where(eq(testbeds.name, row.testbed))
          .run();
        this.journal('health-check-due', `flagged after instance ${id}: ${cause.failure}`, { testbed: row.testbed });
      }
      return this.mustGet(id);
    });
  }

  recordStopOutcome(id: string, outcome: string): InstanceRow {
    return this.update(id, ['destroying'], { stopOutcome: outcome }, 'agent-stopped', `agent stopped: ${outcome}`);
  }

  recordWorkerDeleted(id: string): InstanceRow {
    return this.update(id, ['destroying'], { workerDeleted: true }, 'worker-deleted', 'worker deleted on the server');
  }

  /** destroying → destroyed: the testbed is free again. */
  markDestroyed(id: string): InstanceRow {
    return this.transition(id, 'destroyed', { destroyedAt: this.now() }, 'instance destroyed; testbed free');
  }

  journal(kind: string, message: string, where: { instanceId?: string; testbed?: string } = {}): void {
    this.db
      .insert(events)
      .values({ at: this.now(), kind, message, instanceId: where.instanceId ?? null, testbed: where.testbed ?? null })
      .run();
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
      this.db.update(instances).set({ ...patch, state: to, updatedAt: now }).where(eq(instances.id, id)).run();
      this.journal(to, message, { instanceId: id, testbed: row.testbed });
      return this.mustGet(id);
    });
  }

  private update(id: string, states: InstanceState[], patch: Partial<InstanceRow>, kind: string, message: string): InstanceRow {
    const now = this.now();
    return this.tx(() => {
      const row = this.mustGet(id);
      if (!states.includes(row.state)) {
        throw new IllegalTransitionError(`instance ${id}`, row.state, row.state, `${kind} is only recorded in ${states.join(' or ')}`);
      }
      this.db.update(instances).set({ ...patch, updatedAt: now }).where(eq(instances.id, id)).run();
      this.journal(kind, message, { instanceId: id, testbed: row.testbed });
      return this.mustGet(id);
    });
  }
}

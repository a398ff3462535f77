// The one module that changes a testbed's health (HEALTH_STATES in db/schema.ts). Every change
// runs in an IMMEDIATE transaction that re-reads the row; an illegal transition throws
// IllegalTransitionError. A check holds the testbed through the lock table while it runs.
//
//   unknown ──check──► checking ──pass──► good ──(infra failure, asked)──► unknown
//                          │ fail                 └──(schedule)──► checking
//                          ▼
//                unknown (backoff) … bad_after in a row ──► bad ──(a person)──► unknown
//   any ──maintenance on──► maintenance ──off──► unknown;   any ──decommission──► retired ──recommission──► unknown
import { eq } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { immediate, type OpenedDb } from '../shared/db.js';
import { IllegalTransitionError, MvmError } from '../shared/errors.js';
import { formatDuration } from '../shared/duration.js';
import { testbeds, type HealthState, type Schema, type TestbedRow } from './db/schema.js';
import { journal } from './journal.js';
import { allLocks, lockOf, releaseLock, takeLock } from './locks.js';

type Db = BetterSQLite3Database<Schema>;

const ALLOWED: Record<HealthState, readonly HealthState[]> = {
  unknown: ['checking', 'maintenance', 'retired'],
  checking: ['good', 'unknown', 'bad', 'maintenance', 'retired'],
  good: ['unknown', 'checking', 'maintenance', 'retired'],
  bad: ['unknown', 'maintenance', 'retired'],
  maintenance: ['unknown', 'retired'],
  retired: ['unknown'],
};

export function canChangeHealth(from: HealthState, to: HealthState): boolean {
  return ALLOWED[from].includes(to);
}

export interface HealthPolicy {
  /** Checks failed in a row before a testbed is bad. */
  badAfter: number;
  /** Wait after the first failed check; doubles per failure, capped by intervalMs (or 1 h). */
  retryMs: number;
  /** A good testbed is checked again after this long; 0: never on a schedule. */
  intervalMs: number;
}

export const DEFAULT_POLICY: HealthPolicy = { badAfter: 3, retryMs: 60_000, intervalMs: 6 * 3_600_000 };

/** People who can move a testbed, as the journal names them. */
export interface Actor {
  who: string;
  reason?: string;
}

function mustGet(db: Db, name: string): TestbedRow {
  const row = db.select().from(testbeds).where(eq(testbeds.name, name)).get();
  if (!row)
    throw new MvmError('NOT_FOUND', `no testbed named ${JSON.stringify(name)}`, {
      hint: '`mvm testbeds list` shows the testbeds',
    });
  return row;
}

function set(
  db: Db,
  now: number,
  row: TestbedRow,
  to: HealthState,
  patch: Partial<TestbedRow>,
  kind: string,
  message: string,
): void {
  if (row.health !== to && !canChangeHealth(row.health, to))
    throw new IllegalTransitionError(`testbed ${row.name}`, row.health, to);
  db.update(testbeds)
    .set({ ...patch, health: to, ...(row.health !== to ? { healthChangedAt: now } : {}), updatedAt: now })
    .where(eq(testbeds.name, row.name))
    .run();
  journal(db, now, kind, message, { testbed: row.name });
}

/**
 * An infrastructure failure happened on the testbed (agent lost, device unreachable, restore
 * failed): it is not trusted until a check passes. Call inside a transaction. A testbed a person
 * holds (maintenance, retired) or that is already bad keeps its state; the failure is journalled.
 */
export function flagInfraFailure(db: Db, now: number, name: string, reason: string, checkAfterMs = 0): void {
  const row = db.select().from(testbeds).where(eq(testbeds.name, name)).get();
  if (!row) return;
  if (row.health === 'good' || row.health === 'unknown') {
    const wait = checkAfterMs > 0 ? ` (next check in ${formatDuration(checkAfterMs)}: it keeps failing)` : '';
    set(
      db,
      now,
      row,
      'unknown',
      { healthReason: reason, nextCheckAt: now + checkAfterMs },
      'health-unknown',
      `infrastructure failure: ${reason}${wait}`,
    );
  } else {
    journal(db, now, 'infra-failure', `infrastructure failure while ${row.health}: ${reason}`, { testbed: name });
  }
}

export class TestbedHealth {
  constructor(
    private readonly opened: OpenedDb<Schema>,
    private readonly now: () => number,
    readonly policy: HealthPolicy = DEFAULT_POLICY,
  ) {}

  private get db(): Db {
    return this.opened.db;
  }

  private tx<T>(fn: () => T): T {
    return immediate(this.opened.sqlite, fn);
  }

  /**
   * Testbeds whose check may start now: unknown (backoff over) or good (schedule due), not held,
   * and on a host that can be used. One read of testbeds and locks, however many there are.
   */
  dueForCheck(names: readonly string[]): string[] {
    const now = this.now();
    const wanted = new Set(names);
    const held = new Set(allLocks(this.db).map((l) => l.testbed));
    return this.db
      .select()
      .from(testbeds)
      .all()
      .filter(
        (t) =>
          wanted.has(t.name) &&
          t.configured &&
          t.enabled &&
          (t.health === 'unknown' || (t.health === 'good' && this.policy.intervalMs > 0)),
      )
      .filter((t) => (t.nextCheckAt ?? 0) <= now && !held.has(t.name) && t.unavailable === null)
      .map((t) => t.name);
  }

  /**
   * Takes the testbed for check `checkId` and marks it checking. Undefined when it is no longer
   * due or something else holds it (re-read here: the caller's view may be stale).
   */
  beginCheck(name: string, checkId: string): TestbedRow | undefined {
    const now = this.now();
    return this.tx(() => {
      const row = mustGet(this.db, name);
      if (row.health !== 'unknown' && row.health !== 'good') return undefined;
      if (lockOf(this.db, name)) return undefined;
      takeLock(
        this.db,
        { testbed: name, kind: 'check', holder: checkId, owner: 'factory', reason: `health check ${checkId}` },
        now,
      );
      set(
        this.db,
        now,
        row,
        'checking',
        { lastCheckAt: now },
        'check-started',
        `health check ${checkId} started (was ${row.health})`,
      );
      return mustGet(this.db, name);
    });
  }

  /** Records a check's verdict and releases the testbed. A person's state set meanwhile wins. */
  finishCheck(name: string, checkId: string, ok: boolean, summary: string): TestbedRow {
    const now = this.now();
    return this.tx(() => {
      const row = mustGet(this.db, name);
      const mine = releaseLock(this.db, name, checkId);
      if (!mine || row.health !== 'checking') {
        journal(
          this.db,
          now,
          'check-ignored',
          `health check ${checkId} ended (${ok ? 'pass' : 'fail'}: ${summary}) while the testbed was ${row.health}; result not applied`,
          { testbed: name },
        );
        return mustGet(this.db, name);
      }
      if (ok) {
        const next = this.policy.intervalMs > 0 ? now + this.policy.intervalMs : null;
        set(
          this.db,
          now,
          row,
          'good',
          { healthReason: null, checkFailures: 0, nextCheckAt: next },
          'check-passed',
          `health check passed: ${summary}`,
        );
      } else {
        const failures = row.checkFailures + 1;
        if (failures >= this.policy.badAfter) {
          set(
            this.db,
            now,
            row,
            'bad',
            { healthReason: summary, checkFailures: failures, nextCheckAt: null },
            'health-bad',
            `health check failed ${failures} times in a row; a person must act: ${summary}`,
          );
        } else {
          const wait = Math.min(
            this.policy.retryMs * 2 ** (failures - 1),
            this.policy.intervalMs > 0 ? this.policy.intervalMs : 3_600_000,
          );
          set(
            this.db,
            now,
            row,
            'unknown',
            { healthReason: summary, checkFailures: failures, nextCheckAt: now + wait },
            'check-failed',
            `health check failed (${failures} of ${this.policy.badAfter}); next try in ${formatDuration(wait)}: ${summary}`,
          );
        }
      }
      return mustGet(this.db, name);
    });
  }

  /**
   * After a restart: checks whose process is gone (`active` are the ids still running here) are
   * released and their testbeds made unknown again, so the check runs anew.
   */
  abandonChecks(active: ReadonlySet<string>): number {
    const now = this.now();
    return this.tx(() => {
      let n = 0;
      for (const row of this.db.select().from(testbeds).where(eq(testbeds.health, 'checking')).all()) {
        const l = lockOf(this.db, row.name);
        if (l && l.kind === 'check' && active.has(l.holder)) continue;
        if (l && l.kind === 'check') releaseLock(this.db, row.name, l.holder);
        set(
          this.db,
          now,
          row,
          'unknown',
          { nextCheckAt: now },
          'check-interrupted',
          'a health check was interrupted (factory restart); it runs again',
        );
        n++;
      }
      return n;
    });
  }

  /** A person asks for a check now (also how a bad testbed is given another chance). */
  requestCheck(name: string, by: Actor): TestbedRow {
    const now = this.now();
    return this.tx(() => {
      const row = mustGet(this.db, name);
      if (row.health === 'maintenance' || row.health === 'retired') {
        throw new MvmError(
          'CONFLICT',
          `testbed ${name} is ${row.health === 'retired' ? 'decommissioned' : 'in maintenance'}; it is not checked`,
          {
            hint:
              row.health === 'retired'
                ? 'recommission it first'
                : 'end the maintenance first (that also schedules a check)',
          },
        );
      }
      if (row.health === 'checking') return row;
      set(
        this.db,
        now,
        row,
        'unknown',
        {
          nextCheckAt: now,
          checkFailures: 0,
          healthReason: `check requested by ${by.who}${by.reason ? `: ${by.reason}` : ''}`,
        },
        'check-requested',
        `${by.who} asked for a health check${by.reason ? `: ${by.reason}` : ''}`,
      );
      return mustGet(this.db, name);
    });
  }

  setMaintenance(name: string, on: boolean, by: Actor): TestbedRow {
    const now = this.now();
    return this.tx(() => {
      const row = mustGet(this.db, name);
      if (on) {
        if (row.health === 'retired')
          throw new MvmError('CONFLICT', `testbed ${name} is decommissioned`, { hint: 'recommission it first' });
        if (row.health !== 'maintenance')
          set(
            this.db,
            now,
            row,
            'maintenance',
            { healthReason: `maintenance by ${by.who}${by.reason ? `: ${by.reason}` : ''}`, nextCheckAt: null },
            'maintenance-on',
            `${by.who} started maintenance${by.reason ? `: ${by.reason}` : ''}`,
          );
      } else {
        if (row.health !== 'maintenance')
          throw new MvmError('CONFLICT', `testbed ${name} is not in maintenance (it is ${row.health})`, {
            hint: '`mvm testbeds show` says its state',
          });
        set(
          this.db,
          now,
          row,
          'unknown',
          { healthReason: `back from maintenance (${by.who}); checking`, nextCheckAt: now, checkFailures: 0 },
          'maintenance-off',
          `${by.who} ended maintenance; a health check is due`,
        );
      }
      return mustGet(this.db, name);
    });
  }

  decommission(name: string, by: Actor): TestbedRow {
    const now = this.now();
    return this.tx(() => {
      const row = mustGet(this.db, name);
      if (row.health !== 'retired')
        set(
          this.db,
          now,
          row,
          'retired',
          { healthReason: `decommissioned by ${by.who}${by.reason ? `: ${by.reason}` : ''}`, nextCheckAt: null },
          'decommissioned',
          `${by.who} decommissioned the testbed${by.reason ? `: ${by.reason}` : ''}`,
        );
      return mustGet(this.db, name);
    });
  }

  recommission(name: string, by: Actor): TestbedRow {
    const now = this.now();
    return this.tx(() => {
      const row = mustGet(this.db, name);
      if (row.health !== 'retired')
        throw new MvmError('CONFLICT', `testbed ${name} is not decommissioned (it is ${row.health})`, {
          hint: '`mvm testbeds show` says its state',
        });
      set(
        this.db,
        now,
        row,
        'unknown',
        { healthReason: `recommissioned by ${by.who}; checking`, nextCheckAt: now, checkFailures: 0 },
        'recommissioned',
        `${by.who} recommissioned the testbed; a health check is due`,
      );
      return mustGet(this.db, name);
    });
  }

  /** Records whether the host the testbed's agent runs on can be used (null: it can). Journals changes only. */
  setUnavailable(name: string, reason: string | null): void {
    const now = this.now();
    this.tx(() => {
      const row = this.db.select().from(testbeds).where(eq(testbeds.name, name)).get();
      if (!row || row.unavailable === reason) return;
      this.db
        .update(testbeds)
        .set({ unavailable: reason, unavailableSince: reason === null ? null : now, updatedAt: now })
        .where(eq(testbeds.name, name))
        .run();
      journal(
        this.db,
        now,
        reason === null ? 'available' : 'unavailable',
        reason === null ? 'its host can be used again' : `its host cannot be used: ${reason}`,
        { testbed: name },
      );
    });
  }
}

// People's reservations: a lock of kind "reservation" with an owner and a TTL. Reserve, renew and
// release are single IMMEDIATE transactions that re-read the lock, so a reservation and a job (or
// two people) racing for one testbed get one winner; a lapsed reservation is released and journalled.
// However a reservation ends (release, forced release, TTL), its lock becomes a `restore` lock in the
// same transaction when the baseline must be restored: the testbed takes no job until the factory
// restored it (TestbedOps), exactly as after a job. An admin may reserve with restore on release off.
import { and, eq, isNotNull, lte } from 'drizzle-orm';
import { immediate, type OpenedDb } from '../shared/db.js';
import { MvmError } from '../shared/errors.js';
import { formatDuration } from '../shared/duration.js';
import { newId } from '../shared/ids.js';
import { locks, testbeds, type LockRow, type Schema } from './db/schema.js';
import { journal } from './journal.js';
import { describeLock, lockOf, releaseLock, takeLock } from './locks.js';
import { flagInfraFailure } from './testbed-health.js';

export interface ReserveRequest {
  testbed: string;
  owner: string;
  reason?: string;
  ttlMs: number;
  /** false: leave the devices as they are when it ends (admins only; journalled). */
  restoreOnRelease?: boolean;
}

export interface ReleaseRequest {
  testbed: string;
  /** Who asks; must be the owner unless `force`. */
  by: string;
  force?: boolean;
}

export class Reservations {
  /**
   * Whether a testbed has a baseline to restore when a reservation ends (the factory sets it from
   * its config). Without a factory to ask, assume it has: the next factory start restores it.
   */
  restoreNeeded: (testbed: string) => boolean = () => true;

  constructor(
    private readonly opened: OpenedDb<Schema>,
    private readonly now: () => number,
  ) {}

  private get db() {
    return this.opened.db;
  }

  private tx<T>(fn: () => T): T {
    return immediate(this.opened.sqlite, fn);
  }

  list(): LockRow[] {
    return this.db.select().from(locks).where(eq(locks.kind, 'reservation')).all();
  }

  reserve(r: ReserveRequest): LockRow {
    const now = this.now();
    return this.tx(() => {
      const tb = this.db.select().from(testbeds).where(eq(testbeds.name, r.testbed)).get();
      if (!tb || !tb.configured)
        throw new MvmError('NOT_FOUND', `no testbed named ${JSON.stringify(r.testbed)}`, {
          hint: '`mvm testbeds list` shows the testbeds',
        });
      if (tb.health === 'retired')
        throw new MvmError('CONFLICT', `testbed ${r.testbed} is decommissioned`, {
          hint: 'an admin can recommission it',
        });
      this.expireOne(r.testbed, now);
      const held = lockOf(this.db, r.testbed);
      if (held?.kind === 'reservation' && held.owner === r.owner) {
        throw new MvmError(
          'CONFLICT',
          `you already hold testbed ${r.testbed} (until ${new Date(held.expiresAt!).toISOString()})`,
          { hint: 'renew it instead: mvm testbeds renew NAME --ttl DURATION' },
        );
      }
      const lock = takeLock(
        this.db,
        {
          testbed: r.testbed,
          kind: 'reservation',
          holder: newId(now),
          owner: r.owner,
          reason: r.reason ?? null,
          expiresAt: now + r.ttlMs,
          restoreOnRelease: r.restoreOnRelease ?? true,
        },
        now,
      );
      const noRestore = r.restoreOnRelease === false ? ' (restore on release: no)' : '';
      journal(
        this.db,
        now,
        'reserved',
        `${r.owner} reserved it for ${formatDuration(r.ttlMs)}${noRestore}${r.reason ? `: ${r.reason}` : ''}`,
        { testbed: r.testbed },
      );
      return lock;
    });
  }

  /** Extends the owner's reservation to now + ttl. */
  renew(r: ReserveRequest): LockRow {
    const now = this.now();
    return this.tx(() => {
      this.expireOne(r.testbed, now);
      const held = this.mine(r.testbed, r.owner, false);
      this.db
        .update(locks)
        .set({ expiresAt: now + r.ttlMs, renewedAt: now, ...(r.reason !== undefined ? { reason: r.reason } : {}) })
        .where(eq(locks.testbed, r.testbed))
        .run();
      journal(this.db, now, 'renewed', `${r.owner} renewed the reservation for ${formatDuration(r.ttlMs)}`, {
        testbed: r.testbed,
      });
      return { ...held, ...lockOf(this.db, r.testbed)! };
    });
  }

  /** Ends a reservation: its owner, or anyone with force (an admin). */
  release(r: ReleaseRequest): LockRow {
    const now = this.now();
    return this.tx(() => {
      this.expireOne(r.testbed, now);
      const held = this.mine(r.testbed, r.by, r.force ?? false);
      journal(
        this.db,
        now,
        'released',
        held.owner === r.by ? `${r.by} released it` : `${r.by} released ${held.owner}'s reservation (forced)`,
        { testbed: r.testbed },
      );
      this.end(held, now);
      return held;
    });
  }

  /** Releases every reservation whose TTL has passed; returns the testbeds freed. */
  expire(): string[] {
    const now = this.now();
    return this.tx(() => {
      const lapsed = this.db
        .select()
        .from(locks)
        .where(and(isNotNull(locks.expiresAt), lte(locks.expiresAt, now), eq(locks.kind, 'reservation')))
        .all();
      for (const l of lapsed) this.expireOne(l.testbed, now);
      return lapsed.map((l) => l.testbed);
    });
  }

  private expireOne(testbed: string, now: number): void {
    const l = lockOf(this.db, testbed);
    if (!l || l.kind !== 'reservation' || l.expiresAt === null || l.expiresAt > now) return;
    journal(
      this.db,
      now,
      'reservation-expired',
      `${l.owner}'s reservation lapsed (TTL ended ${new Date(l.expiresAt).toISOString()})`,
      { testbed },
    );
    this.end(l, now);
  }

  /** Ends reservation `l`: frees the testbed, or hands it to a baseline restore. Inside a transaction. */
  private end(l: LockRow, now: number): void {
    this.db.delete(locks).where(eq(locks.testbed, l.testbed)).run();
    if (!l.restoreOnRelease) {
      journal(
        this.db,
        now,
        'restore-skipped',
        `no baseline restore after ${l.owner}'s reservation (restore on release: no)`,
        { testbed: l.testbed },
      );
      return;
    }
    if (!this.restoreNeeded(l.testbed)) return;
    const reason = `baseline restore after ${l.owner}'s reservation`;
    takeLock(this.db, { testbed: l.testbed, kind: 'restore', holder: newId(now), owner: 'factory', reason }, now);
    journal(this.db, now, 'restore-pending', `${reason}: the testbed takes no job until it is restored`, {
      testbed: l.testbed,
    });
  }

  /** Baseline restores owed after reservations ended (locks of kind `restore`). */
  pendingRestores(): LockRow[] {
    return this.db.select().from(locks).where(eq(locks.kind, 'restore')).all();
  }

  /**
   * Records how restore `holder` ended and frees the testbed; a failure is an infrastructure
   * failure (health unknown: quarantined until a check passes), in the same transaction.
   */
  finishRestore(testbed: string, holder: string, r: { ok: boolean; skipped?: boolean; message: string }): boolean {
    const now = this.now();
    return this.tx(() => {
      const l = lockOf(this.db, testbed);
      if (!l || l.kind !== 'restore' || !releaseLock(this.db, testbed, holder)) return false;
      const what = l.reason ?? 'baseline restore after a reservation';
      if (r.ok)
        journal(
          this.db,
          now,
          r.skipped ? 'restore-skipped' : 'restored',
          `${what}: ${r.skipped ? 'skipped: ' : ''}${r.message}`,
          { testbed },
        );
      else {
        journal(this.db, now, 'restore-failed', `${what} failed: ${r.message}`, { testbed });
        flagInfraFailure(this.db, now, testbed, `${what} failed: ${r.message}`);
      }
      return true;
    });
  }

  private mine(testbed: string, who: string, force: boolean): LockRow {
    const held = lockOf(this.db, testbed);
    if (!held || held.kind !== 'reservation') {
      const tb = this.db.select().from(testbeds).where(eq(testbeds.name, testbed)).get();
      if (!tb)
        throw new MvmError('NOT_FOUND', `no testbed named ${JSON.stringify(testbed)}`, {
          hint: '`mvm testbeds list` shows the testbeds',
        });
      throw new MvmError(
        'NOT_FOUND',
        `testbed ${testbed} is not reserved${held ? ` (it is ${describeLock(held)})` : ''}`,
        { hint: '`mvm testbeds show NAME` says what holds it' },
      );
    }
    if (held.owner !== who && !force) {
      throw new MvmError('FORBIDDEN', `testbed ${testbed} is reserved by ${held.owner}, not by ${who}`, {
        hint: 'only its owner can renew or release it; an admin can release it with --force',
      });
    }
    return held;
  }
}

// The lock table: who holds a testbed. Jobs (instances), people (reservations) and health checks
// all take a testbed through here, inside the caller's IMMEDIATE transaction, so "a reserved
// testbed is never allocated" and "a busy testbed cannot be reserved" are one rule: the primary key.
import { eq } from 'drizzle-orm';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { MvmError } from '../shared/errors.js';
import { locks, type LockKind, type LockRow, type Schema } from './db/schema.js';

type Db = BetterSQLite3Database<Schema>;

export interface NewLock {
  testbed: string;
  kind: LockKind;
  holder: string;
  owner: string;
  reason?: string | null;
  expiresAt?: number | null;
  restoreOnRelease?: boolean;
}

export function lockOf(db: Db, testbed: string): LockRow | undefined {
  return db.select().from(locks).where(eq(locks.testbed, testbed)).get();
}

export function allLocks(db: Db): LockRow[] {
  return db.select().from(locks).all();
}

/** What holds the testbed, for people: "running job J (instance I)", "reserved by alice until …". */
export function describeLock(l: LockRow): string {
  switch (l.kind) {
    case 'job':
      return `running ${l.reason ?? `instance ${l.holder}`}`;
    case 'reservation':
      return `reserved by ${l.owner}${l.expiresAt !== null ? ` until ${new Date(l.expiresAt).toISOString()}` : ''}${l.reason ? ` (${JSON.stringify(l.reason)})` : ''}`;
    case 'check':
      return `being checked (health check since ${new Date(l.acquiredAt).toISOString()})`;
    case 'restore':
      return `being restored to its baseline (${l.reason ?? 'after a reservation'}, since ${new Date(l.acquiredAt).toISOString()})`;
  }
}

/** Takes the testbed for `l.holder`; CONFLICT naming the current holder when it is taken. Call inside a transaction. */
export function takeLock(db: Db, l: NewLock, now: number): LockRow {
  const held = lockOf(db, l.testbed);
  if (held) {
    if (held.kind === l.kind && held.holder === l.holder) return held;
    throw new MvmError('CONFLICT', `testbed ${l.testbed} is ${describeLock(held)}`, {
      hint:
        held.kind === 'reservation'
          ? 'wait for the reservation to end, or ask its owner to release it'
          : 'wait until it is free; `mvm testbeds show` says what holds it',
    });
  }
  db.insert(locks)
    .values({
      testbed: l.testbed,
      kind: l.kind,
      holder: l.holder,
      owner: l.owner,
      reason: l.reason ?? null,
      acquiredAt: now,
      expiresAt: l.expiresAt ?? null,
      restoreOnRelease: l.restoreOnRelease ?? true,
    })
    .run();
  return lockOf(db, l.testbed)!;
}

/** Releases the lock when `holder` holds it; false when someone else (or no one) does. Call inside a transaction. */
export function releaseLock(db: Db, testbed: string, holder: string): boolean {
  const held = lockOf(db, testbed);
  if (!held || held.holder !== holder) return false;
  db.delete(locks).where(eq(locks.testbed, testbed)).run();
  return true;
}

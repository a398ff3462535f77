// The factory's append-only journal (the `events` table): what it did and why, by instance and
// testbed. Written inside the transaction of the change it records, so the two cannot disagree.
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { events, type Schema } from './db/schema.js';

export interface JournalWhere {
  instanceId?: string;
  testbed?: string;
}

export function journal(
  db: BetterSQLite3Database<Schema>,
  at: number,
  kind: string,
  message: string,
  where: JournalWhere = {},
): void {
  db.insert(events)
    .values({ at, kind, message, instanceId: where.instanceId ?? null, testbed: where.testbed ?? null })
    .run();
}

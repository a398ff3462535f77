// Opening an SQLite database the way every mvm component wants it: WAL, a busy timeout,
// foreign keys on, and the committed drizzle migrations applied.
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { MvmError } from './errors.js';

export interface OpenDbOptions {
  /** Folder of drizzle migrations (SQL + meta/_journal.json). */
  migrationsFolder: string;
  busyTimeoutMs?: number;
}

export interface OpenedDb<S extends Record<string, unknown>> {
  sqlite: Database.Database;
  db: BetterSQLite3Database<S>;
  close(): void;
}

export function openDb<S extends Record<string, unknown>>(file: string, schema: S, opts: OpenDbOptions): OpenedDb<S> {
  if (file !== ':memory:') privateFile(file);
  let sqlite: Database.Database;
  try {
    sqlite = new Database(file);
    sqlite.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
  } catch (err) {
    throw new MvmError('IO', `cannot open database ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'check that the path is writable and no other program holds an exclusive lock on it',
    });
  }
  const db = drizzle(sqlite, { schema });
  try {
    migrate(db, { migrationsFolder: opts.migrationsFolder });
  } catch (err) {
    sqlite.close();
    throw new MvmError('IO', `cannot migrate database ${file}: ${(err as Error).message}`, {
      cause: err,
      hint: 'the file may belong to a newer mvm, or be locked by another process',
    });
  }
  return { sqlite, db, close: () => sqlite.close() };
}

/**
 * The database holds secrets (job environments, token hashes): its folder is made 0700 and the
 * file 0600 whatever the umask, and an existing file readable by others is tightened. SQLite
 * gives its -wal and -shm files the database file's mode.
 */
function privateFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(file, 'a', 0o600));
  } catch {
    /* read-only for this user: SQLite says so when it opens it */
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch {
      /* not there yet, or not ours to change: SQLite reports what matters */
    }
  }
}

/**
 * Runs `fn` in a BEGIN IMMEDIATE transaction: the write lock is taken up front, so a row read
 * inside cannot change before the write. `fn` must be synchronous and make no network calls.
 */
export function immediate<T>(sqlite: Database.Database, fn: () => T): T {
  return sqlite.transaction(fn).immediate();
}

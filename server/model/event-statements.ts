// The hot path of every job's log: appending events and reading them back. A task that prints
// fast sends thousands of lines a second; building these statements with drizzle on every call
// cost more than SQLite storing the rows, so they are prepared once per database and reused.
// Rows are inserted many per statement: one call into SQLite per row was most of an append's cost.
import type Database from 'better-sqlite3';

/** A row as the events table stores it (times in epoch ms; `time_remote` may carry a fraction). */
export interface EventRow {
  seq: number;
  task: number | null;
  stream: string;
  time: number;
  time_remote: number | null;
  payload: string;
}

/** Rows per multi-row INSERT: 7 parameters each, far below SQLite's limit of 32,766. */
export const INSERT_ROWS = 64;

export interface EventStatements {
  lastSeq: Database.Statement<[string], { seq: number }>;
  /** Inserts one row: (job, seq, task, stream, time, time_remote, payload). */
  insert: Database.Statement<unknown[]>;
  /** Inserts INSERT_ROWS rows: the parameters of `insert`, row after row. */
  insertMany: Database.Statement<unknown[]>;
  setSeq: Database.Statement<[number, string]>;
  /** The job's events from `seq` on, oldest first, at most `limit`. */
  since: Database.Statement<[string, number, number], EventRow>;
  /** The same rows as `since`, each as the JSON text of its API object (`listEventsJson`). */
  sinceJson: Database.Statement<[string, number, number], string>;
  /** The job's last `n` worker events (those with a remote time), newest first. */
  workerTail: Database.Statement<
    [string, number],
    { stream: string; payload: string; task: number | null; time_remote: number | null }
  >;
  taskCount: Database.Statement<[string], { n: number }>;
}

const cache = new WeakMap<Database.Database, EventStatements>();

const insertSql = (rows: number) =>
  `INSERT INTO events (job, seq, task, stream, time, time_remote, payload) VALUES ${Array(rows)
    .fill('(?, ?, ?, ?, ?, ?, ?)')
    .join(', ')}`;

/**
 * SQL for `new Date(ms).toISOString()` of a column holding epoch ms (a fraction is dropped, as Date
 * does; milliseconds are taken modulo 1000 upwards, so times before 1970 come out right too).
 */
function isoSql(col: string): string {
  const ms = `(CAST(${col} AS INTEGER) % 1000 + 1000) % 1000`;
  return `strftime('%Y-%m-%dT%H:%M:%S', (CAST(${col} AS INTEGER) - ${ms}) / 1000, 'unixepoch') || printf('.%03dZ', ${ms})`;
}

/** One event as the API's JSON object, keys in the API's order, built by SQLite. */
const EVENT_JSON = `json_object('seq', seq, 'task', task, 'stream', stream, 'time', ${isoSql('time')},
  'time_remote', CASE WHEN time_remote IS NULL THEN NULL ELSE ${isoSql('time_remote')} END, 'payload', payload)`;

export function eventStatements(sqlite: Database.Database): EventStatements {
  let s = cache.get(sqlite);
  if (!s) {
    s = {
      lastSeq: sqlite.prepare('SELECT event_seq AS seq FROM jobs WHERE id = ?'),
      insert: sqlite.prepare(insertSql(1)),
      insertMany: sqlite.prepare(insertSql(INSERT_ROWS)),
      setSeq: sqlite.prepare('UPDATE jobs SET event_seq = ? WHERE id = ?'),
      since: sqlite.prepare(
        'SELECT seq, task, stream, time, time_remote, payload FROM events WHERE job = ? AND seq >= ? ORDER BY seq LIMIT ?',
      ),
      sinceJson: sqlite
        .prepare<[string, number, number], string>(
          `SELECT ${EVENT_JSON} FROM events WHERE job = ? AND seq >= ? ORDER BY seq LIMIT ?`,
        )
        .pluck(),
      workerTail: sqlite.prepare(
        'SELECT stream, payload, task, time_remote FROM events WHERE job = ? AND time_remote IS NOT NULL ORDER BY seq DESC LIMIT ?',
      ),
      taskCount: sqlite.prepare('SELECT count(*) AS n FROM tasks WHERE job = ?'),
    };
    cache.set(sqlite, s);
  }
  return s;
}

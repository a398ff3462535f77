// The hot path of every job's log: appending events and reading a job's last ones. A task that
// prints fast sends hundreds of appends a second; building these statements with drizzle on every
// call cost more than SQLite storing the rows, so they are prepared once per database and reused.
import type Database from 'better-sqlite3';

export interface EventStatements {
  lastSeq: Database.Statement<[string], { seq: number }>;
  insert: Database.Statement<[string, number, number | null, string, number, number | null, string]>;
  setSeq: Database.Statement<[number, string]>;
  /** The job's last `n` worker events (those with a remote time), newest first. */
  workerTail: Database.Statement<
    [string, number],
    { stream: string; payload: string; task: number | null; time_remote: number | null }
  >;
}

const cache = new WeakMap<Database.Database, EventStatements>();

export function eventStatements(sqlite: Database.Database): EventStatements {
  let s = cache.get(sqlite);
  if (!s) {
    s = {
      lastSeq: sqlite.prepare('SELECT event_seq AS seq FROM jobs WHERE id = ?'),
      insert: sqlite.prepare(
        'INSERT INTO events (job, seq, task, stream, time, time_remote, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      setSeq: sqlite.prepare('UPDATE jobs SET event_seq = ? WHERE id = ?'),
      workerTail: sqlite.prepare(
        'SELECT stream, payload, task, time_remote FROM events WHERE job = ? AND time_remote IS NOT NULL ORDER BY seq DESC LIMIT ?',
      ),
    };
    cache.set(sqlite, s);
  }
  return s;
}

// The miners' live state (status, missed readings, last reading): kept in memory for the API and
// written through in the collector's batches, so a restart starts from what was known.
import type Database from 'better-sqlite3';
import type { Telemetry } from '../../runner/drivers/types.js';
import type { LiveStateStore, MinerLiveState, MinerStatus } from '../types.js';

interface StateRow {
  miner_id: string;
  status: MinerStatus;
  missed: number;
  last_seen_at: number | null;
  last: string | null;
  last_error: string | null;
}

export class SqliteLiveStateStore implements LiveStateStore {
  private readonly cache = new Map<string, MinerLiveState>();
  private readonly upsert: Database.Statement;
  private readonly del: Database.Statement;

  constructor(private readonly sqlite: Database.Database) {
    for (const r of sqlite.prepare('SELECT * FROM miner_state').all() as StateRow[]) {
      this.cache.set(r.miner_id, {
        id: r.miner_id,
        status: r.status,
        missed: r.missed,
        lastSeenAt: r.last_seen_at,
        last: r.last === null ? null : (JSON.parse(r.last) as Telemetry),
        lastError: r.last_error,
      });
    }
    this.upsert = sqlite.prepare(
      `INSERT INTO miner_state (miner_id, status, missed, last_seen_at, last, last_error) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (miner_id) DO UPDATE SET status = excluded.status, missed = excluded.missed,
         last_seen_at = excluded.last_seen_at, last = excluded.last, last_error = excluded.last_error`,
    );
    this.del = sqlite.prepare('DELETE FROM miner_state WHERE miner_id = ?');
  }

  get(id: string): MinerLiveState | undefined {
    return this.cache.get(id);
  }

  all(): Map<string, MinerLiveState> {
    return new Map(this.cache);
  }

  show(state: MinerLiveState): void {
    this.cache.set(state.id, { ...state, last: state.last ? withoutRaw(state.last) : null });
  }

  /** Updates the memory first: a failed write (disk full) leaves the API right and is retried with the next batch. */
  write(states: MinerLiveState[]): void {
    for (const s of states) this.cache.set(s.id, { ...s, last: s.last ? withoutRaw(s.last) : null });
    this.sqlite.transaction(() => {
      for (const s of states) {
        this.upsert.run(
          s.id,
          s.status,
          s.missed,
          s.lastSeenAt,
          s.last ? JSON.stringify(withoutRaw(s.last)) : null,
          s.lastError,
        );
      }
    })();
  }

  remove(id: string): void {
    this.cache.delete(id);
    this.del.run(id);
  }
}

/** A reading without the device's own reply (large, and not part of the normalised shape). */
export function withoutRaw(t: Telemetry): Telemetry {
  if (t.raw === undefined || t.raw === null) return t;
  return { ...t, raw: null };
}

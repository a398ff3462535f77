// What the fleet wants each miner to be in (mode, paused, pools): set by the actions, compared with
// the device's read-back to find drift.
import type Database from 'better-sqlite3';
import type { DesiredState, DesiredStore } from '../types.js';

interface DesiredRow {
  miner_id: string;
  mode: string | null;
  paused: number | null;
  pool_ids: string | null;
  updated_at: string;
  updated_by: string | null;
}

function toDesired(r: DesiredRow): DesiredState {
  return {
    minerId: r.miner_id,
    mode: r.mode,
    paused: r.paused === null ? null : r.paused === 1,
    poolIds: r.pool_ids === null ? null : (JSON.parse(r.pool_ids) as string[]),
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

export class SqliteDesiredStore implements DesiredStore {
  constructor(
    private readonly sqlite: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  get(minerId: string): DesiredState | undefined {
    const r = this.sqlite.prepare('SELECT * FROM desired WHERE miner_id = ?').get(minerId) as DesiredRow | undefined;
    return r ? toDesired(r) : undefined;
  }

  set(minerId: string, patch: Partial<Pick<DesiredState, 'mode' | 'paused' | 'poolIds'>>, actor: string): DesiredState {
    return this.sqlite.transaction(() => {
      const cur = this.get(minerId);
      const next = {
        mode: patch.mode !== undefined ? patch.mode : (cur?.mode ?? null),
        paused: patch.paused !== undefined ? patch.paused : (cur?.paused ?? null),
        poolIds: patch.poolIds !== undefined ? patch.poolIds : (cur?.poolIds ?? null),
      };
      this.sqlite
        .prepare(
          `INSERT INTO desired (miner_id, mode, paused, pool_ids, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (miner_id) DO UPDATE SET mode = excluded.mode, paused = excluded.paused, pool_ids = excluded.pool_ids,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        )
        .run(
          minerId,
          next.mode,
          next.paused === null ? null : next.paused ? 1 : 0,
          next.poolIds === null ? null : JSON.stringify(next.poolIds),
          new Date(this.now()).toISOString(),
          actor,
        );
      return this.get(minerId)!;
    })();
  }
}

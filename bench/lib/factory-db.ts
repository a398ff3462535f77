// Reading the factory's SQLite file from outside, as `mvm factory status` does (WAL lets a reader
// in while the factory writes): instance timestamps and journal entries, for the figures that
// only the factory knows (when a testbed was taken and freed, when an agent started).
import Database from 'better-sqlite3';

export interface InstanceTimes {
  id: string;
  testbed: string;
  job: string | null;
  state: string;
  agentPid: number | null;
  createdAt: number;
  runningAt: number | null;
  destroyingAt: number | null;
  destroyedAt: number | null;
}

export class FactoryDbReader {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
  }

  instances(where = ''): InstanceTimes[] {
    return this.db
      .prepare(
        `select id, testbed, job, state, agent_pid as agentPid, created_at as createdAt, running_at as runningAt,
                destroying_at as destroyingAt, destroyed_at as destroyedAt from instances ${where} order by id`,
      )
      .all() as InstanceTimes[];
  }

  liveInstances(): InstanceTimes[] {
    return this.instances("where state <> 'destroyed'");
  }

  /** When each instance's journal recorded `kind` (e.g. agent-started), by instance id. */
  journalTimes(kind: string): Map<string, number> {
    const rows = this.db
      .prepare(
        'select instance_id as id, min(at) as at from events where kind = ? and instance_id is not null group by instance_id',
      )
      .all(kind) as Array<{ id: string; at: number }>;
    return new Map(rows.map((r) => [r.id, r.at]));
  }

  close(): void {
    this.db.close();
  }
}

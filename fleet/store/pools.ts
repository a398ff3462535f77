// The pool catalogue and its assignments (an ordered list per miner or per tag). Passwords are
// stored as given but every listing masks them; only secret(id) reads one, for the actions.
import type Database from 'better-sqlite3';
import { MvmError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import type { MinerDefinition, PoolAssignment, PoolDefinition, PoolStore } from '../types.js';

/** What a listing shows in place of a stored password (and what an update leaves unchanged). */
export const PASSWORD_MASK = '********';

interface PoolRow {
  id: string;
  name: string;
  url: string;
  port: number;
  user: string;
  password: string | null;
  tls: number;
}

interface AssignmentRow {
  scope_kind: 'miner' | 'tag';
  scope_value: string;
  pool_ids: string;
  seq: number;
}

function toPool(r: PoolRow): PoolDefinition {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    port: r.port,
    user: r.user,
    password: r.password === null ? null : PASSWORD_MASK,
    tls: r.tls === 1,
  };
}

/** Throws USAGE naming the field. */
export function checkPool(p: Partial<PoolDefinition>, partial = false): void {
  const bad = (field: string, message: string, hint: string) => {
    throw new MvmError('USAGE', `pool ${field}: ${message}`, { hint });
  };
  if (!partial || p.name !== undefined)
    if (typeof p.name !== 'string' || p.name.trim() === '') bad('name', 'must be a non-empty string', 'e.g. "ocean"');
  if (!partial || p.url !== undefined) {
    if (typeof p.url !== 'string' || !/^stratum\+(tcp|ssl|tls):\/\/[^\s/:]+$/.test(p.url))
      bad(
        'url',
        `${JSON.stringify(p.url)} is not stratum+tcp://host or stratum+ssl://host`,
        'give the port separately, e.g. url = "stratum+tcp://mine.ocean.xyz", port = 3334',
      );
  }
  if (!partial || p.port !== undefined)
    if (!Number.isInteger(p.port) || (p.port as number) < 1 || (p.port as number) > 65535)
      bad('port', `${p.port} is not a port from 1 to 65535`, 'e.g. 3333');
  if (!partial || p.user !== undefined)
    if (typeof p.user !== 'string' || p.user.trim() === '')
      bad('user', 'must be a non-empty string', 'the worker name, e.g. "bc1q….bitaxe"');
  if (p.password !== undefined && p.password !== null && typeof p.password !== 'string')
    bad('password', 'must be a string or null', 'e.g. "x"');
  if (p.tls !== undefined && typeof p.tls !== 'boolean') bad('tls', 'must be true or false', 'true for stratum+ssl');
}

export class SqlitePoolStore implements PoolStore {
  constructor(
    private readonly sqlite: Database.Database,
    private readonly now: () => number = Date.now,
  ) {}

  private row(id: string): PoolRow | undefined {
    return this.sqlite.prepare('SELECT * FROM pools WHERE id = ?').get(id) as PoolRow | undefined;
  }

  private mustRow(id: string): PoolRow {
    const r = this.row(id);
    if (!r) throw new MvmError('NOT_FOUND', `no pool with id ${id}`, { hint: 'list them with `mvm fleet pools`' });
    return r;
  }

  list(): PoolDefinition[] {
    return (this.sqlite.prepare('SELECT * FROM pools ORDER BY name, id').all() as PoolRow[]).map(toPool);
  }

  get(id: string): PoolDefinition | undefined {
    const r = this.row(id);
    return r ? toPool(r) : undefined;
  }

  secret(id: string): string | null {
    return this.mustRow(id).password;
  }

  add(p: Omit<PoolDefinition, 'id'> & { id?: string }): PoolDefinition {
    checkPool(p);
    const id = p.id ?? newId();
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id))
      throw new MvmError('USAGE', `pool id: ${JSON.stringify(id)} is not valid`, {
        hint: 'letters, digits, ".", "_" and "-"',
      });
    if (this.row(id))
      throw new MvmError('CONFLICT', `a pool with id ${id} exists already`, {
        hint: 'pick another id or update that pool',
      });
    const ts = new Date(this.now()).toISOString();
    this.sqlite
      .prepare(
        'INSERT INTO pools (id, name, url, port, user, password, tls, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, p.name, p.url, p.port, p.user, p.password ?? null, p.tls ? 1 : 0, ts, ts);
    return this.get(id)!;
  }

  update(id: string, patch: Partial<Omit<PoolDefinition, 'id'>>): PoolDefinition {
    checkPool(patch, true);
    const cur = this.mustRow(id);
    // A client that echoes a listing back sends the mask: that keeps the stored password.
    const password = patch.password === undefined || patch.password === PASSWORD_MASK ? cur.password : patch.password;
    this.sqlite
      .prepare(
        'UPDATE pools SET name = ?, url = ?, port = ?, user = ?, password = ?, tls = ?, updated_at = ? WHERE id = ?',
      )
      .run(
        patch.name ?? cur.name,
        patch.url ?? cur.url,
        patch.port ?? cur.port,
        patch.user ?? cur.user,
        password,
        (patch.tls ?? cur.tls === 1) ? 1 : 0,
        new Date(this.now()).toISOString(),
        id,
      );
    return this.get(id)!;
  }

  remove(id: string): void {
    this.sqlite.transaction(() => {
      this.mustRow(id);
      const users = this.assignments().filter((a) => a.poolIds.includes(id));
      if (users.length > 0) {
        throw new MvmError(
          'CONFLICT',
          `pool ${id} is assigned to ${users.map((a) => ('miner' in a.scope ? `miner ${a.scope.miner}` : `tag ${a.scope.tag}`)).join(', ')}`,
          {
            hint: 'change or clear those assignments first',
          },
        );
      }
      this.sqlite.prepare('DELETE FROM pools WHERE id = ?').run(id);
    })();
  }

  assignments(): PoolAssignment[] {
    return (
      this.sqlite.prepare('SELECT * FROM pool_assignments ORDER BY scope_kind, seq').all() as AssignmentRow[]
    ).map((r) => ({
      scope: r.scope_kind === 'miner' ? { miner: r.scope_value } : { tag: r.scope_value },
      poolIds: JSON.parse(r.pool_ids) as string[],
    }));
  }

  setAssignment(a: PoolAssignment): void {
    const [kind, value] = 'miner' in a.scope ? (['miner', a.scope.miner] as const) : (['tag', a.scope.tag] as const);
    if (typeof value !== 'string' || value === '')
      throw new MvmError('USAGE', `assignment scope: the ${kind} must be a non-empty string`);
    if (!Array.isArray(a.poolIds) || a.poolIds.length === 0)
      throw new MvmError('USAGE', 'assignment poolIds: must list at least one pool', {
        hint: 'clear the assignment to remove it',
      });
    if (new Set(a.poolIds).size !== a.poolIds.length)
      throw new MvmError('USAGE', 'assignment poolIds: a pool is listed twice');
    this.sqlite.transaction(() => {
      for (const id of a.poolIds)
        if (!this.row(id))
          throw new MvmError('NOT_FOUND', `assignment poolIds: no pool with id ${id}`, { hint: 'add the pool first' });
      const seq = (
        this.sqlite.prepare('SELECT coalesce(max(seq), 0) + 1 AS s FROM pool_assignments').get() as { s: number }
      ).s;
      this.sqlite
        .prepare(
          `INSERT INTO pool_assignments (scope_kind, scope_value, pool_ids, seq, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (scope_kind, scope_value) DO UPDATE SET pool_ids = excluded.pool_ids, updated_at = excluded.updated_at`,
        )
        .run(kind, value, JSON.stringify(a.poolIds), seq, new Date(this.now()).toISOString());
    })();
  }

  clearAssignment(scope: PoolAssignment['scope']): void {
    const [kind, value] = 'miner' in scope ? ['miner', scope.miner] : ['tag', scope.tag];
    this.sqlite.prepare('DELETE FROM pool_assignments WHERE scope_kind = ? AND scope_value = ?').run(kind, value);
  }

  resolveFor(miner: MinerDefinition): PoolDefinition[] | null {
    const get = this.sqlite.prepare('SELECT pool_ids FROM pool_assignments WHERE scope_kind = ? AND scope_value = ?');
    let ids: string | undefined = (get.get('miner', miner.id) as { pool_ids: string } | undefined)?.pool_ids;
    // The miner's tags in its own order: the first one with an assignment wins.
    for (const tag of miner.tags) {
      if (ids !== undefined) break;
      ids = (get.get('tag', tag) as { pool_ids: string } | undefined)?.pool_ids;
    }
    if (ids === undefined) return null;
    return (JSON.parse(ids) as string[]).map((id) => this.get(id)).filter((p): p is PoolDefinition => p !== undefined);
  }
}

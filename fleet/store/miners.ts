// The miners table: definitions from the config (read-only here, replaced by syncConfigMiners) and
// those added through the API. Views join the live state. Every change is an event with its actor.
import type Database from 'better-sqlite3';
import { MvmError } from '../../shared/errors.js';
import { DRIVER_KINDS, type DriverKind } from '../../runner/drivers/types.js';
import type { EventStore, LiveStateStore, MinerDefinition, MinerSource, MinerStore, MinerView } from '../types.js';

interface MinerRow {
  id: string;
  driver: string;
  address: string;
  options: string;
  model: string | null;
  expected_hashrate_ghs: number | null;
  location: string | null;
  tags: string;
  poll_interval_ms: number | null;
  source: MinerSource;
  testbed: string | null;
  hardware: string | null;
  created_at: string;
  updated_at: string;
}

export const MINER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The drivers of miners (a `command` device runs a program per operation: no fleet telemetry). */
export const FLEET_DRIVERS: readonly DriverKind[] = DRIVER_KINDS.filter((k) => k !== 'command');

function toDefinition(r: MinerRow): MinerDefinition {
  return {
    id: r.id,
    driver: r.driver as DriverKind,
    address: r.address,
    options: JSON.parse(r.options) as Record<string, unknown>,
    ...(r.model !== null ? { model: r.model } : {}),
    ...(r.expected_hashrate_ghs !== null ? { expectedHashrateGhs: r.expected_hashrate_ghs } : {}),
    ...(r.location !== null ? { location: r.location } : {}),
    tags: JSON.parse(r.tags) as string[],
    ...(r.poll_interval_ms !== null ? { pollIntervalMs: r.poll_interval_ms } : {}),
    source: r.source,
    ...(r.testbed !== null ? { testbed: r.testbed } : {}),
    ...(r.hardware !== null ? { hardware: r.hardware } : {}),
  };
}

/** The stored form of a definition, also what "changed?" compares. */
function columns(d: MinerDefinition): unknown[] {
  return [
    d.driver,
    d.address,
    JSON.stringify(d.options ?? {}),
    d.model ?? null,
    d.expectedHashrateGhs ?? null,
    d.location ?? null,
    JSON.stringify(d.tags ?? []),
    d.pollIntervalMs ?? null,
    d.source,
    d.testbed ?? null,
    d.hardware ?? null,
  ];
}

/** Throws USAGE naming the field when a definition cannot be stored. */
export function checkMinerDefinition(d: Partial<MinerDefinition>, partial = false): void {
  const bad = (field: string, message: string, hint: string) => {
    throw new MvmError('USAGE', `miner ${field}: ${message}`, { hint });
  };
  if (!partial || d.id !== undefined) {
    if (typeof d.id !== 'string' || !MINER_ID.test(d.id))
      bad(
        'id',
        `${JSON.stringify(d.id)} is not a valid miner id`,
        'letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit',
      );
  }
  if (!partial || d.driver !== undefined) {
    if (!FLEET_DRIVERS.includes(d.driver as DriverKind))
      bad('driver', `${JSON.stringify(d.driver)} is not a miner driver`, `one of ${FLEET_DRIVERS.join(', ')}`);
  }
  if (!partial || d.address !== undefined) {
    if (typeof d.address !== 'string' || d.address.trim() === '')
      bad(
        'address',
        'must be a non-empty string',
        'e.g. "http://192.168.1.50" (axeos), "192.168.1.60:4028" (cgminer), "192.168.1.70" (nmminer)',
      );
  }
  if (d.tags !== undefined && (!Array.isArray(d.tags) || d.tags.some((t) => typeof t !== 'string' || t === '')))
    bad('tags', 'must be an array of non-empty strings', 'e.g. ["garage", "bitaxe"]');
  if (d.pollIntervalMs !== undefined && !(Number.isInteger(d.pollIntervalMs) && d.pollIntervalMs >= 100))
    bad('pollIntervalMs', `${d.pollIntervalMs} is not an interval of at least 100 ms`, 'e.g. 10000');
  if (d.expectedHashrateGhs !== undefined && !(typeof d.expectedHashrateGhs === 'number' && d.expectedHashrateGhs >= 0))
    bad('expectedHashrateGhs', 'must be a number ≥ 0', 'GH/s, e.g. 1200');
  if (d.options !== undefined && (typeof d.options !== 'object' || d.options === null || Array.isArray(d.options)))
    bad('options', 'must be an object', 'the driver options, as a testbed device has them');
}

export class SqliteMinerStore implements MinerStore {
  private readonly stmt: {
    all: Database.Statement;
    one: Database.Statement;
    insert: Database.Statement;
    update: Database.Statement;
    del: Database.Statement;
  };

  constructor(
    private readonly sqlite: Database.Database,
    private readonly events: EventStore,
    private readonly live: LiveStateStore,
    private readonly now: () => number = Date.now,
  ) {
    const cols =
      'driver, address, options, model, expected_hashrate_ghs, location, tags, poll_interval_ms, source, testbed, hardware';
    this.stmt = {
      all: sqlite.prepare('SELECT * FROM miners ORDER BY id'),
      one: sqlite.prepare('SELECT * FROM miners WHERE id = ?'),
      insert: sqlite.prepare(
        `INSERT INTO miners (id, ${cols}, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      update: sqlite.prepare(
        `UPDATE miners SET driver = ?, address = ?, options = ?, model = ?, expected_hashrate_ghs = ?, location = ?, tags = ?,
           poll_interval_ms = ?, source = ?, testbed = ?, hardware = ?, updated_at = ? WHERE id = ?`,
      ),
      del: sqlite.prepare('DELETE FROM miners WHERE id = ?'),
    };
  }

  private view(r: MinerRow): MinerView {
    const s = this.live.get(r.id);
    return {
      ...toDefinition(r),
      status: s?.status ?? 'unknown',
      missed: s?.missed ?? 0,
      lastSeenAt: s?.lastSeenAt ?? null,
      last: s?.last ?? null,
      lastError: s?.lastError ?? null,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    };
  }

  private row(id: string): MinerRow | undefined {
    return this.stmt.one.get(id) as MinerRow | undefined;
  }

  list(): MinerView[] {
    return (this.stmt.all.all() as MinerRow[]).map((r) => this.view(r));
  }

  get(id: string): MinerView | undefined {
    const r = this.row(id);
    return r ? this.view(r) : undefined;
  }

  /** Definitions only (the collector's input). */
  definitions(): MinerDefinition[] {
    return (this.stmt.all.all() as MinerRow[]).map(toDefinition);
  }

  add(def: Omit<MinerDefinition, 'source'>, actor: string): MinerView {
    const d: MinerDefinition = { ...def, options: def.options ?? {}, tags: def.tags ?? [], source: 'api' };
    checkMinerDefinition(d);
    const ts = new Date(this.now()).toISOString();
    this.sqlite.transaction(() => {
      const existing = this.row(d.id);
      if (existing) {
        throw new MvmError(
          'CONFLICT',
          `a miner named ${d.id} exists already (${existing.source === 'api' ? 'added through the API' : `from the ${existing.source}`})`,
          {
            hint: 'pick another name, or edit that miner',
          },
        );
      }
      this.stmt.insert.run(d.id, ...columns(d), ts, ts);
    })();
    this.events.append({
      minerId: d.id,
      kind: 'miner',
      message: `miner ${d.id} added (${d.driver} ${d.address})`,
      actor,
      data: { op: 'added' },
    });
    return this.get(d.id)!;
  }

  private editable(id: string): MinerRow {
    const r = this.row(id);
    if (!r) throw new MvmError('NOT_FOUND', `no miner named ${id}`, { hint: 'list them with `mvm fleet miners`' });
    if (r.source !== 'api') {
      throw new MvmError(
        'FORBIDDEN',
        `miner ${id} is defined by the ${r.source === 'testbed' ? 'factory config (a testbed device)' : 'fleet config'}: it is read-only here`,
        {
          hint: 'change it in the config file and reload the fleet (SIGHUP)',
        },
      );
    }
    return r;
  }

  update(id: string, patch: Partial<Omit<MinerDefinition, 'id' | 'source'>>, actor: string): MinerView {
    checkMinerDefinition(patch, true);
    const ts = new Date(this.now()).toISOString();
    const changed: string[] = [];
    this.sqlite.transaction(() => {
      const cur = toDefinition(this.editable(id));
      const next: MinerDefinition = { ...cur };
      for (const [k, v] of Object.entries(patch) as [keyof MinerDefinition, unknown][]) {
        if (k === 'id' || k === 'source' || v === undefined) continue;
        if (JSON.stringify(cur[k]) !== JSON.stringify(v)) changed.push(k);
        (next as unknown as Record<string, unknown>)[k] = v;
      }
      this.stmt.update.run(...columns(next), ts, id);
    })();
    if (changed.length > 0) {
      this.events.append({
        minerId: id,
        kind: 'miner',
        message: `miner ${id} edited (${changed.join(', ')})`,
        actor,
        data: { op: 'edited', fields: changed },
      });
    }
    return this.get(id)!;
  }

  remove(id: string, actor: string): void {
    this.sqlite.transaction(() => {
      this.editable(id);
      this.stmt.del.run(id);
      this.sqlite.prepare('DELETE FROM desired WHERE miner_id = ?').run(id);
    })();
    this.live.remove(id);
    this.events.append({ minerId: id, kind: 'miner', message: `miner ${id} removed`, actor, data: { op: 'removed' } });
  }

  /** `by` says what changed them in the events: the config (a start, a reload), or a lab's listing. */
  syncConfigMiners(
    defs: MinerDefinition[],
    by: { actor: string; what: string } = { actor: 'config', what: 'the config' },
  ): { added: string[]; changed: string[]; removed: string[] } {
    const result = { added: [] as string[], changed: [] as string[], removed: [] as string[] };
    const ts = new Date(this.now()).toISOString();
    const wanted = new Map(defs.map((d) => [d.id, d]));
    this.sqlite.transaction(() => {
      for (const r of this.stmt.all.all() as MinerRow[]) {
        const want = wanted.get(r.id);
        if (!want) {
          if (r.source !== 'api') {
            this.stmt.del.run(r.id);
            result.removed.push(r.id);
          }
          continue;
        }
        // A config miner replaces an API one of the same name: the config is the authority.
        if (JSON.stringify(columns(toDefinition(r))) !== JSON.stringify(columns(want))) {
          this.stmt.update.run(...columns(want), ts, r.id);
          result.changed.push(r.id);
        }
        wanted.delete(r.id);
      }
      for (const d of wanted.values()) {
        this.stmt.insert.run(d.id, ...columns(d), ts, ts);
        result.added.push(d.id);
      }
    })();
    for (const id of result.removed) this.live.remove(id);
    for (const [op, ids] of Object.entries(result)) {
      for (const id of ids)
        this.events.append({
          minerId: id,
          kind: 'miner',
          message: `miner ${id} ${op} by ${by.what}`,
          actor: by.actor,
          data: { op },
        });
    }
    return result;
  }
}

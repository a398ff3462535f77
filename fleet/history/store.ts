// The history: raw samples and their per-minute and per-hour roll-ups, maintained on insert (the
// bucket each sample falls in is merged in memory and written back in the same transaction), and
// queried from the table that suits the range and step.
import type Database from 'better-sqlite3';
import { MvmError } from '../../shared/errors.js';
import type { RetentionConfig } from '../config/types.js';
import { FLEET_DEFAULTS } from '../config/types.js';
import type { HistoryPoint, HistoryQuery, HistoryResult, HistoryStore, Resolution, SampleRow, Stat } from '../types.js';
import { addSample, emptyBucket, mergeBucket, METRICS, toPoint, type Agg, type Bucket } from './aggregate.js';

export const BUCKET_MS = { minute: 60_000, hour: 3_600_000 } as const;
/** A query answers at most this many points (a finer step is widened). */
export const MAX_POINTS = 10_000;

type RollupTable = 'samples_minute' | 'samples_hour';
type Res = 'minute' | 'hour';
/** Open buckets are written at least this often (besides when they close). */
export const PERSIST_EVERY_MS = 60_000;

interface SampleDbRow {
  miner_id: string;
  at: number;
  online: number;
  hashrate_ghs: number | null;
  power_w: number | null;
  efficiency_jth: number | null;
  temperatures: string | null;
  fan_rpm: number | null;
  fan_percent: number | null;
  shares_accepted: number | null;
  shares_rejected: number | null;
}

function rowToSample(r: SampleDbRow): SampleRow {
  return {
    minerId: r.miner_id,
    at: r.at,
    online: r.online === 1,
    hashrateGhs: r.hashrate_ghs,
    powerW: r.power_w,
    efficiencyJth: r.efficiency_jth,
    temperatures: r.temperatures ? (JSON.parse(r.temperatures) as Record<string, number>) : {},
    fanRpm: r.fan_rpm,
    fanPercent: r.fan_percent,
    sharesAccepted: r.shares_accepted,
    sharesRejected: r.shares_rejected,
  };
}

/** The roll-up columns a read selects, in this order (rows are read as arrays: no object per row). */
const ROLLUP_READ = [
  't',
  'n',
  ...METRICS.flatMap((m) => [`${m}_n`, `${m}_sum`, `${m}_min`, `${m}_max`]),
  'temperatures',
].join(', ');
type RollupArray = (number | string | null)[];

function rowToBucket(r: RollupArray): Bucket {
  const b = emptyBucket(r[0] as number);
  b.n = r[1] as number;
  let i = 2;
  for (const m of METRICS) {
    const n = r[i] as number;
    b[m] = n > 0 ? { n, sum: r[i + 1] as number, min: r[i + 2] as number, max: r[i + 3] as number } : null;
    i += 4;
  }
  const temps = r[i] as string | null;
  if (temps) {
    for (const [name, [n, sum, min, max]] of Object.entries(
      JSON.parse(temps) as Record<string, [number, number, number, number]>,
    )) {
      b.temps[name] = { n, sum, min, max };
    }
  }
  return b;
}

/** A stored row straight to its point (a chart at the table's own step: no bucket in between). */
function rowToPoint(r: RollupArray): HistoryPoint {
  const stats: (Stat | null)[] = [];
  for (let i = 2; i < 2 + METRICS.length * 4; i += 4) {
    const n = r[i] as number;
    stats.push(n > 0 ? { min: r[i + 2] as number, mean: (r[i + 1] as number) / n, max: r[i + 3] as number } : null);
  }
  const temperatures: Record<string, Stat> = {};
  const temps = r[2 + METRICS.length * 4] as string | null;
  if (temps) {
    for (const [name, [n, sum, min, max]] of Object.entries(
      JSON.parse(temps) as Record<string, [number, number, number, number]>,
    )) {
      if (n > 0) temperatures[name] = { min, mean: sum / n, max };
    }
  }
  const [hashrateGhs, powerW, efficiencyJth, fanRpm, fanPercent] = stats;
  return { t: r[0] as number, n: r[1] as number, hashrateGhs, powerW, efficiencyJth, temperatures, fanRpm, fanPercent };
}

function bucketArgs(minerId: string, b: Bucket): unknown[] {
  const args: unknown[] = [minerId, b.t, b.n];
  for (const m of METRICS) {
    const a: Agg | null = b[m];
    args.push(a?.n ?? 0, a?.sum ?? null, a?.min ?? null, a?.max ?? null);
  }
  const temps = Object.entries(b.temps);
  args.push(
    temps.length === 0
      ? null
      : JSON.stringify(Object.fromEntries(temps.map(([k, a]) => [k, [a.n, a.sum, a.min, a.max]]))),
  );
  return args;
}

/** SQLITE_FULL, SQLITE_IOERR…: the write failed for want of space or a working disk. */
export function writeFailure(err: unknown, what: string): MvmError {
  const code = (err as { code?: string }).code ?? '';
  const full = code === 'SQLITE_FULL';
  return new MvmError(
    'IO',
    `${what}: ${full ? 'the database or disk is full' : (err as Error).message} (${code || 'error'})`,
    {
      cause: err,
      retryable: true,
      hint: full
        ? 'free disk space, or shorten [fleet.retention] so that pruning keeps the history smaller'
        : 'check the disk holding the fleet data directory',
    },
  );
}

export interface HistoryStoreOptions {
  retention?: RetentionConfig;
  now?: () => number;
}

export class SqliteHistoryStore implements HistoryStore {
  private readonly retention: RetentionConfig;
  private readonly now: () => number;
  /** The bucket each miner's latest samples fall in, per resolution: merged without a read. */
  private readonly open = { minute: new Map<string, Bucket>(), hour: new Map<string, Bucket>() };
  private latestCache: Map<string, SampleRow> | undefined;
  /** Buckets that have a row (written, or read back). */
  private stored = new WeakSet<Bucket>();
  /** Buckets changed since they were last written, and where they go. */
  private readonly dirty = new Map<Bucket, { res: Res; minerId: string }>();
  private lastPersistAll: number;
  private readonly stmt: {
    insertSample: Database.Statement;
    readBucket: Record<'minute' | 'hour', Database.Statement>;
    readRange: Record<'minute' | 'hour', Database.Statement>;
    rawRange: Database.Statement;
    writeBucket: Record<'minute' | 'hour', Database.Statement>;
    updateBucket: Record<'minute' | 'hour', Database.Statement>;
  };

  constructor(
    private readonly sqlite: Database.Database,
    opts: HistoryStoreOptions = {},
  ) {
    this.retention = opts.retention ?? FLEET_DEFAULTS.retention;
    this.now = opts.now ?? Date.now;
    this.lastPersistAll = this.now();
    const cols = [
      'miner_id',
      't',
      'n',
      ...METRICS.flatMap((m) => [`${m}_n`, `${m}_sum`, `${m}_min`, `${m}_max`]),
      'temperatures',
    ];
    const write = (table: RollupTable) =>
      sqlite.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
    // A bucket already stored is updated in place (cheaper than REPLACE's delete and insert).
    const update = (table: RollupTable) =>
      sqlite.prepare(
        `UPDATE ${table} SET ${cols
          .slice(2)
          .map((c) => `${c} = ?`)
          .join(', ')} WHERE miner_id = ? AND t = ?`,
      );
    const read = (table: RollupTable) =>
      sqlite.prepare(`SELECT ${ROLLUP_READ} FROM ${table} WHERE miner_id = ? AND t = ?`).raw(true);
    const range = (table: RollupTable) =>
      sqlite
        .prepare(`SELECT ${ROLLUP_READ} FROM ${table} WHERE miner_id = ? AND t >= ? AND t < ? ORDER BY t`)
        .raw(true);
    this.stmt = {
      insertSample: sqlite.prepare(
        `INSERT OR IGNORE INTO samples (miner_id, at, online, hashrate_ghs, power_w, efficiency_jth, temperatures, fan_rpm, fan_percent, shares_accepted, shares_rejected)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      readBucket: { minute: read('samples_minute'), hour: read('samples_hour') },
      readRange: { minute: range('samples_minute'), hour: range('samples_hour') },
      rawRange: sqlite.prepare('SELECT * FROM samples WHERE miner_id = ? AND at >= ? AND at < ? ORDER BY at'),
      writeBucket: { minute: write('samples_minute'), hour: write('samples_hour') },
      updateBucket: { minute: update('samples_minute'), hour: update('samples_hour') },
    };
  }

  /**
   * A bucket read for merging. Within the raw retention it is rebuilt from the raw samples, so it is
   * exact even when the daemon died before writing it (open buckets are written when they close).
   */
  private load(res: Res, minerId: string, t: number): Bucket {
    const row = this.stmt.readBucket[res].get(minerId, t) as RollupArray | undefined;
    let b: Bucket;
    if (t >= this.now() - this.retention.rawMs) {
      b = emptyBucket(t);
      for (const r of this.stmt.rawRange.all(minerId, t, t + BUCKET_MS[res]) as SampleDbRow[])
        addSample(b, rowToSample(r));
    } else {
      b = row ? rowToBucket(row) : emptyBucket(t);
    }
    if (row) this.stored.add(b);
    return b;
  }

  private bucketFor(res: Res, minerId: string, t: number): Bucket {
    const cached = this.open[res].get(minerId);
    if (cached && cached.t === t) return cached;
    const b = this.load(res, minerId, t);
    // Only the newest bucket stays open; the one it replaces is written now. A late sample's
    // older bucket is merged and written at the end of the insert.
    if (!cached || cached.t < t) {
      if (cached) this.persist(res, minerId, cached);
      this.open[res].set(minerId, b);
    }
    return b;
  }

  private persist(res: Res, minerId: string, b: Bucket): void {
    if (!this.dirty.has(b)) return;
    if (this.stored.has(b)) this.stmt.updateBucket[res].run(...bucketArgs(minerId, b).slice(2), minerId, b.t);
    else this.stmt.writeBucket[res].run(...bucketArgs(minerId, b));
    this.stored.add(b);
    this.dirty.delete(b);
  }

  /** Writes every bucket changed since it was last written (the daemon calls it before closing the database). */
  persistOpen(): void {
    try {
      this.sqlite.transaction(() => {
        for (const [b, { res, minerId }] of [...this.dirty]) this.persist(res, minerId, b);
      })();
      this.lastPersistAll = this.now();
    } catch (err) {
      this.forget();
      throw writeFailure(err, 'cannot store the roll-ups');
    }
  }

  insert(samples: SampleRow[]): void {
    if (samples.length === 0) return;
    try {
      this.sqlite.transaction(() => {
        for (const s of samples) {
          // The buckets first: a bucket rebuilt from the raw samples must not count this one yet.
          const minute = this.bucketFor('minute', s.minerId, Math.floor(s.at / BUCKET_MS.minute) * BUCKET_MS.minute);
          const hour = this.bucketFor('hour', s.minerId, Math.floor(s.at / BUCKET_MS.hour) * BUCKET_MS.hour);
          const r = this.stmt.insertSample.run(
            s.minerId,
            s.at,
            s.online ? 1 : 0,
            s.hashrateGhs,
            s.powerW,
            s.efficiencyJth,
            Object.keys(s.temperatures).length === 0 ? null : JSON.stringify(s.temperatures),
            s.fanRpm,
            s.fanPercent,
            s.sharesAccepted,
            s.sharesRejected,
          );
          if (r.changes === 0) continue; // the same reading twice (an NMMiner datagram read again)
          addSample(minute, s);
          addSample(hour, s);
          this.dirty.set(minute, { res: 'minute', minerId: s.minerId });
          this.dirty.set(hour, { res: 'hour', minerId: s.minerId });
          this.noteLatest(s);
        }
        // Buckets that are not open (late samples) are written now; open ones when they close, and
        // all of them every PERSIST_EVERY_MS so that the tables never lag far behind.
        const all = this.now() - this.lastPersistAll >= PERSIST_EVERY_MS;
        for (const [b, { res, minerId }] of [...this.dirty]) {
          if (all || this.open[res].get(minerId) !== b) this.persist(res, minerId, b);
        }
        if (all) this.lastPersistAll = this.now();
      })();
    } catch (err) {
      this.forget();
      throw writeFailure(err, `cannot store ${samples.length} sample${samples.length === 1 ? '' : 's'}`);
    }
  }

  /**
   * After an unclean stop (kill -9: open buckets not written), the newest minute and hour bucket of
   * every miner rebuilt from the raw samples and written. Returns the buckets written.
   */
  repair(): number {
    let n = 0;
    const now = this.now();
    this.sqlite.transaction(() => {
      for (const [minerId, s] of this.latest()) {
        for (const res of ['minute', 'hour'] as const) {
          const t = Math.floor(s.at / BUCKET_MS[res]) * BUCKET_MS[res];
          if (t < now - this.retention.rawMs) continue;
          const b = this.load(res, minerId, t);
          this.dirty.set(b, { res, minerId });
          this.persist(res, minerId, b);
          n++;
        }
      }
    })();
    return n;
  }

  /** After a rollback: the buckets in memory may hold what was not stored; they are rebuilt next time. */
  private forget(): void {
    this.open.minute.clear();
    this.open.hour.clear();
    this.dirty.clear();
    this.stored = new WeakSet();
    this.latestCache = undefined;
  }

  private noteLatest(s: SampleRow): void {
    if (!this.latestCache) return;
    const cur = this.latestCache.get(s.minerId);
    if (!cur || cur.at <= s.at) this.latestCache.set(s.minerId, s);
  }

  latest(): Map<string, SampleRow> {
    if (!this.latestCache) {
      const m = new Map<string, SampleRow>();
      for (const id of minerIdsIn(this.sqlite, 'samples')) {
        const r = this.sqlite.prepare('SELECT * FROM samples WHERE miner_id = ? ORDER BY at DESC LIMIT 1').get(id) as
          SampleDbRow | undefined;
        if (r) m.set(id, rowToSample(r));
      }
      this.latestCache = m;
    }
    return new Map(this.latestCache);
  }

  /** The table a query reads: from the step if given, else from the range; coarser when the range starts before a table's retention. */
  resolutionFor(q: HistoryQuery): Resolution {
    const range = q.to - q.from;
    let res: Resolution =
      q.stepMs !== undefined
        ? q.stepMs >= BUCKET_MS.hour
          ? 'hour'
          : q.stepMs >= BUCKET_MS.minute
            ? 'minute'
            : 'raw'
        : range <= 2 * 3_600_000
          ? 'raw'
          : range <= 2 * 86_400_000
            ? 'minute'
            : 'hour';
    const now = this.now();
    if (res === 'raw' && q.from < now - this.retention.rawMs) res = 'minute';
    if (res === 'minute' && q.from < now - this.retention.minuteMs) res = 'hour';
    return res;
  }

  query(q: HistoryQuery): HistoryResult {
    if (!Number.isFinite(q.from) || !Number.isFinite(q.to) || q.from >= q.to) {
      throw new MvmError('USAGE', `history range: from (${q.from}) must be before to (${q.to})`, {
        hint: 'give from and to as ms since epoch or ISO times, from < to',
      });
    }
    if (q.stepMs !== undefined && !(q.stepMs > 0))
      throw new MvmError('USAGE', `history step: ${q.stepMs} is not a positive duration`, { hint: 'e.g. step=60s' });
    const resolution = this.resolutionFor(q);
    const native = resolution === 'raw' ? 0 : BUCKET_MS[resolution];
    // Raw without a step: every sample (stepMs 0). Otherwise at least the table's own bucket, and
    // wide enough that the answer stays within MAX_POINTS.
    let stepMs = 0;
    if (resolution !== 'raw' || q.stepMs !== undefined) {
      stepMs = Math.max(q.stepMs ?? native, native, Math.ceil((q.to - q.from) / MAX_POINTS));
      if (native > 0) stepMs = Math.ceil(stepMs / native) * native;
    }

    let buckets: Bucket[];
    if (resolution === 'raw') {
      const rows = this.stmt.rawRange.all(q.minerId, q.from, q.to) as SampleDbRow[];
      buckets = rows.map((r) => {
        const b = emptyBucket(r.at);
        addSample(b, rowToSample(r));
        return b;
      });
    } else {
      const from = Math.floor(q.from / native) * native;
      const rows = this.stmt.readRange[resolution].all(q.minerId, from, q.to) as RollupArray[];
      // The open bucket (not written yet, or written before its latest samples) comes from memory.
      const open = this.open[resolution].get(q.minerId);
      if (stepMs === native) {
        // The common chart (a month of hours, a day of minutes): rows become points directly.
        const points = rows.map(rowToPoint);
        if (open && open.t >= from && open.t < q.to) {
          const i = points.findIndex((p) => p.t >= open.t);
          if (i === -1) points.push(toPoint(open));
          else points.splice(i, points[i].t === open.t ? 1 : 0, toPoint(open));
        }
        return { minerId: q.minerId, resolution, stepMs, points };
      }
      buckets = rows.map(rowToBucket);
      if (open && open.t >= from && open.t < q.to) {
        const i = buckets.findIndex((b) => b.t >= open.t);
        if (i === -1) buckets.push(open);
        else if (buckets[i].t === open.t) buckets[i] = open;
        else buckets.splice(i, 0, open);
      }
    }
    if (stepMs > native) buckets = regroup(buckets, stepMs);
    return { minerId: q.minerId, resolution, stepMs, points: buckets.map(toPoint) };
  }
}

/** Merges buckets into `stepMs`-wide ones (aligned on multiples of the step). */
function regroup(buckets: Bucket[], stepMs: number): Bucket[] {
  const out: Bucket[] = [];
  for (const b of buckets) {
    const t = Math.floor(b.t / stepMs) * stepMs;
    let last = out[out.length - 1];
    if (!last || last.t !== t) {
      last = emptyBucket(t);
      out.push(last);
    }
    mergeBucket(last, b);
  }
  return out;
}

/** The distinct miner ids of a history table, one index seek each (no full scan). */
export function* minerIdsIn(sqlite: Database.Database, table: 'samples' | RollupTable): Generator<string> {
  const next = sqlite.prepare(`SELECT miner_id FROM ${table} WHERE miner_id > ? ORDER BY miner_id LIMIT 1`).pluck();
  let id = '';
  for (;;) {
    const n = next.get(id) as string | undefined;
    if (n === undefined) return;
    yield n;
    id = n;
  }
}

// The history: raw samples and their per-minute and per-hour roll-ups, maintained on insert (the
// bucket each sample falls in is merged in memory and written back in the same transaction), and
// queried from the table that suits the range and step.
import type Database from 'better-sqlite3';
import { MvmError } from '../../shared/errors.js';
import type { RetentionConfig } from '../config/types.js';
import { FLEET_DEFAULTS } from '../config/types.js';
import type { HistoryQuery, HistoryResult, HistoryStore, Resolution, SampleRow } from '../types.js';
import { addSample, emptyBucket, mergeBucket, METRICS, toPoint, type Agg, type Bucket } from './aggregate.js';

export const BUCKET_MS = { minute: 60_000, hour: 3_600_000 } as const;
/** A query answers at most this many points (a finer step is widened). */
export const MAX_POINTS = 10_000;

type RollupTable = 'samples_minute' | 'samples_hour';
const TABLE: Record<'minute' | 'hour', RollupTable> = { minute: 'samples_minute', hour: 'samples_hour' };

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

type RollupRow = Record<string, number | string | null> & { miner_id: string; t: number; n: number; temperatures: string | null };

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

function rowToBucket(r: RollupRow): Bucket {
  const b = emptyBucket(r.t);
  b.n = r.n;
  for (const m of METRICS) {
    const n = r[`${m}_n`] as number;
    b[m] = n > 0 ? { n, sum: r[`${m}_sum`] as number, min: r[`${m}_min`] as number, max: r[`${m}_max`] as number } : null;
  }
  if (r.temperatures) {
    for (const [name, [n, sum, min, max]] of Object.entries(JSON.parse(r.temperatures) as Record<string, [number, number, number, number]>)) {
      b.temps[name] = { n, sum, min, max };
    }
  }
  return b;
}

function bucketArgs(minerId: string, b: Bucket): unknown[] {
  const args: unknown[] = [minerId, b.t, b.n];
  for (const m of METRICS) {
    const a: Agg | null = b[m];
    args.push(a?.n ?? 0, a?.sum ?? null, a?.min ?? null, a?.max ?? null);
  }
  const temps = Object.entries(b.temps);
  args.push(temps.length === 0 ? null : JSON.stringify(Object.fromEntries(temps.map(([k, a]) => [k, [a.n, a.sum, a.min, a.max]]))));
  return args;
}

/** SQLITE_FULL, SQLITE_IOERR…: the write failed for want of space or a working disk. */
export function writeFailure(err: unknown, what: string): MvmError {
  const code = (err as { code?: string }).code ?? '';
  const full = code === 'SQLITE_FULL';
  return new MvmError('IO', `${what}: ${full ? 'the database or disk is full' : (err as Error).message} (${code || 'error'})`, {
    cause: err,
    retryable: true,
    hint: full ? 'free disk space, or shorten [fleet.retention] so that pruning keeps the history smaller' : 'check the disk holding the fleet data directory',
  });
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
  private readonly stmt: {
    insertSample: Database.Statement;
    readBucket: Record<'minute' | 'hour', Database.Statement>;
    writeBucket: Record<'minute' | 'hour', Database.Statement>;
  };

  constructor(
    private readonly sqlite: Database.Database,
    opts: HistoryStoreOptions = {},
  ) {
    this.retention = opts.retention ?? FLEET_DEFAULTS.retention;
    this.now = opts.now ?? Date.now;
    const cols = ['miner_id', 't', 'n', ...METRICS.flatMap((m) => [`${m}_n`, `${m}_sum`, `${m}_min`, `${m}_max`]), 'temperatures'];
    const write = (table: RollupTable) => sqlite.prepare(`INSERT OR REPLACE INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
    const read = (table: RollupTable) => sqlite.prepare(`SELECT * FROM ${table} WHERE miner_id = ? AND t = ?`);
    this.stmt = {
      insertSample: sqlite.prepare(
        `INSERT OR IGNORE INTO samples (miner_id, at, online, hashrate_ghs, power_w, efficiency_jth, temperatures, fan_rpm, fan_percent, shares_accepted, shares_rejected)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      readBucket: { minute: read('samples_minute'), hour: read('samples_hour') },
      writeBucket: { minute: write('samples_minute'), hour: write('samples_hour') },
    };
  }

  private bucketFor(res: 'minute' | 'hour', minerId: string, t: number): Bucket {
    const cached = this.open[res].get(minerId);
    if (cached && cached.t === t) return cached;
    const row = this.stmt.readBucket[res].get(minerId, t) as RollupRow | undefined;
    const b = row ? rowToBucket(row) : emptyBucket(t);
    // Only the newest bucket stays open: a late sample for an older one is merged and written, not kept.
    if (!cached || cached.t < t) this.open[res].set(minerId, b);
    return b;
  }

  insert(samples: SampleRow[]): void {
    if (samples.length === 0) return;
    const touched = new Map<string, { res: 'minute' | 'hour'; minerId: string; b: Bucket }>();
    try {
      this.sqlite.transaction(() => {
        for (const s of samples) {
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
          for (const res of ['minute', 'hour'] as const) {
            const t = Math.floor(s.at / BUCKET_MS[res]) * BUCKET_MS[res];
            const b = this.bucketFor(res, s.minerId, t);
            addSample(b, s);
            touched.set(`${res}\0${s.minerId}\0${t}`, { res, minerId: s.minerId, b });
          }
          this.noteLatest(s);
        }
        for (const { res, minerId, b } of touched.values()) this.stmt.writeBucket[res].run(...bucketArgs(minerId, b));
      })();
    } catch (err) {
      // The open buckets were merged before the rollback: drop them, they are read back next time.
      this.open.minute.clear();
      this.open.hour.clear();
      this.latestCache = undefined;
      throw writeFailure(err, `cannot store ${samples.length} sample${samples.length === 1 ? '' : 's'}`);
    }
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
        const r = this.sqlite.prepare('SELECT * FROM samples WHERE miner_id = ? ORDER BY at DESC LIMIT 1').get(id) as SampleDbRow | undefined;
        if (r) m.set(id, rowToSample(r));
      }
      this.latestCache = m;
    }
    return new Map(this.latestCache);
  }

  /** The table a query reads: from the step if given, else from the range; coarser when the range starts before a table's retention. */
  resolutionFor(q: HistoryQuery): Resolution {
    const range = q.to - q.from;
    let res: Resolution = q.stepMs !== undefined
      ? q.stepMs >= BUCKET_MS.hour ? 'hour' : q.stepMs >= BUCKET_MS.minute ? 'minute' : 'raw'
      : range <= 2 * 3_600_000 ? 'raw' : range <= 2 * 86_400_000 ? 'minute' : 'hour';
    const now = this.now();
    if (res === 'raw' && q.from < now - this.retention.rawMs) res = 'minute';
    if (res === 'minute' && q.from < now - this.retention.minuteMs) res = 'hour';
    return res;
  }

  query(q: HistoryQuery): HistoryResult {
    if (!Number.isFinite(q.from) || !Number.isFinite(q.to) || q.from >= q.to) {
      throw new MvmError('USAGE', `history range: from (${q.from}) must be before to (${q.to})`, { hint: 'give from and to as ms since epoch or ISO times, from < to' });
    }
    if (q.stepMs !== undefined && !(q.stepMs > 0)) throw new MvmError('USAGE', `history step: ${q.stepMs} is not a positive duration`, { hint: 'e.g. step=60s' });
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
      const rows = this.sqlite.prepare('SELECT * FROM samples WHERE miner_id = ? AND at >= ? AND at < ? ORDER BY at').all(q.minerId, q.from, q.to) as SampleDbRow[];
      buckets = rows.map((r) => {
        const b = emptyBucket(r.at);
        addSample(b, rowToSample(r));
        return b;
      });
    } else {
      const from = Math.floor(q.from / native) * native;
      const rows = this.sqlite.prepare(`SELECT * FROM ${TABLE[resolution]} WHERE miner_id = ? AND t >= ? AND t < ? ORDER BY t`).all(q.minerId, from, q.to) as RollupRow[];
      buckets = rows.map(rowToBucket);
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

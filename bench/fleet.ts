// fleet: the fleet controller's data plane at scale.
// 1) The collector reading DEVICES simulated AxeOS miners every INTERVAL (the simulators run in a
//    separate process, so the CPU, in % of one core, and the RSS are the collector's own, SQLite
//    writes included).
// 2) The history of a thousand miners: a month of hour roll-ups and a day of minute roll-ups
//    written straight into the tables (a month of 10 s samples through the collector would take a
//    month), then the insert cost of one collection round (1,000 samples: raw rows plus both
//    roll-ups, one transaction), the p99 of a 30-day chart query, and the bytes a row takes, from
//    which the database size per miner-month follows.
// Run: npx tsc -p . && node dist/bench/run.js fleet [--quick]
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Collector } from '../fleet/collector/collector.js';
import { FLEET_DEFAULTS } from '../fleet/config/types.js';
import { openFleetDb, type FleetDb } from '../fleet/db/open.js';
import { createFleetStores } from '../fleet/store/index.js';
import { SqliteHistoryStore } from '../fleet/history/store.js';
import { METRICS } from '../fleet/history/aggregate.js';
import type { SampleRow } from '../fleet/types.js';
import { silentLogger } from '../shared/log.js';
import { runBench } from './lib/bench.js';
import { startNode } from './lib/proc.js';
import { mb, procMemory } from './lib/proc-sampler.js';
import { round, summarize } from './lib/stats.js';

const SIMS_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'axeos-sims-main.js');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

runBench('fleet', async (ctx) => {
  const collector = await collectorFigures(ctx.quick, ctx.subdir('collector'), ctx.log('axeos-sims'));
  const history = historyFigures(ctx.quick, ctx.subdir('history'));
  return { collector, history };
});

async function collectorFigures(quick: boolean, dir: string, simLog: string) {
  const devices = quick ? 50 : 1000;
  const intervalMs = quick ? 2_000 : 10_000;
  const measured = quick ? 3 : 6; // intervals measured, after one of warm-up
  const sims = startNode('axeos-sims', SIMS_MAIN, [String(devices)], { logFile: simLog });
  const urls = (JSON.parse((await sims.waitForLine(/^\{"urls"/, 180_000)).line) as { urls: string[] }).urls;
  const db = openFleetDb(join(dir, 'fleet.sqlite'));
  const stores = createFleetStores(db, { log: silentLogger() });
  stores.miners.syncConfigMiners(
    urls.map((address, i) => ({
      id: `miner-${String(i).padStart(4, '0')}`,
      driver: 'axeos',
      address,
      options: {},
      tags: [],
      source: 'config',
    })),
  );
  const rssBefore = procMemory(process.pid)!.rssKb;
  const collector = new Collector({
    definitions: () => stores.miners.definitions(),
    events: stores.events,
    history: stores.history,
    live: stores.live,
    settings: { ...FLEET_DEFAULTS, pollIntervalMs: intervalMs, concurrency: 64, requestTimeoutMs: 5_000 },
    log: silentLogger(),
  });
  await collector.start();
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await wait(intervalMs * 1.5); // warm-up: first readings spread over the interval, JIT, sockets
  const cpuPct: number[] = [];
  const rss: number[] = [];
  const c0 = collector.counts();
  for (let i = 0; i < measured; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await wait(intervalMs);
    const used = process.cpuUsage(cpu0);
    cpuPct.push(((used.user + used.system) / 1000 / (performance.now() - t0)) * 100);
    rss.push(procMemory(process.pid)!.rssKb);
  }
  const c1 = collector.counts();
  const online = stores.miners.list().filter((m) => m.status === 'online').length;
  await collector.stop();
  db.close();
  return {
    devices,
    interval_s: intervalMs / 1000,
    intervals_measured: measured,
    readings_per_interval: round((c1.readings - c0.readings) / measured),
    missed: c1.missed - c0.missed,
    online_at_end: online,
    cpu_pct_of_core: {
      mean: round(cpuPct.reduce((a, b) => a + b, 0) / cpuPct.length, 2),
      max: round(Math.max(...cpuPct), 2),
    },
    rss_mb: {
      before_start: mb(rssBefore),
      mean: mb(rss.reduce((a, b) => a + b, 0) / rss.length),
      max: mb(Math.max(...rss)),
    },
  };
}

function fileBytes(db: FleetDb, file: string): number {
  db.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  return statSync(file).size;
}

function historyFigures(quick: boolean, dir: string) {
  const miners = quick ? 100 : 1000;
  const days = 30;
  const minuteDays = quick ? 0.25 : 1;
  const file = join(dir, 'fleet.sqlite');
  const db = openFleetDb(file);
  const ids = Array.from({ length: miners }, (_, i) => `miner-${String(i).padStart(4, '0')}`);
  const now = Date.UTC(2026, 5, 30);
  const start = now - days * DAY;

  // Roll-up rows as the insert path writes them (360 samples an hour, 6 a minute).
  const cols = [
    'miner_id',
    't',
    'n',
    ...METRICS.flatMap((m) => [`${m}_n`, `${m}_sum`, `${m}_min`, `${m}_max`]),
    'temperatures',
  ];
  const writer = (table: string) =>
    db.sqlite.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const row = (id: string, t: number, n: number, i: number) => {
    const hr = 1100 + (i % 50);
    const vals = [hr, 15 + (i % 3), 13.6 + (i % 7) / 10, 4000 + (i % 90), 80 + (i % 20)];
    const args: unknown[] = [id, t, n];
    for (const v of vals) args.push(n, v * n, v * 0.95, v * 1.05);
    args.push(JSON.stringify({ chip: [n, 55 * n, 53.1, 57.9], vr: [n, 48 * n, 46.2, 50.4] }));
    return args;
  };
  const size0 = fileBytes(db, file);
  const fill = (table: string, stepMs: number, from: number, n: number) => {
    const w = writer(table);
    const t0 = performance.now();
    let rows = 0;
    // Miner by miner, as the clustered key orders them; a transaction per miner.
    for (const id of ids) {
      db.sqlite.transaction(() => {
        let i = 0;
        for (let t = from; t < now; t += stepMs) {
          w.run(...row(id, t, n, i++));
          rows++;
        }
      })();
    }
    return { rows, seconds: round((performance.now() - t0) / 1000) };
  };
  const hourFill = fill('samples_hour', HOUR, start, 360);
  const size1 = fileBytes(db, file);
  const minuteFill = fill('samples_minute', 60_000, now - minuteDays * DAY, 6);
  const size2 = fileBytes(db, file);

  // Collection rounds through the real insert path: each round one sample per miner, 10 s apart.
  const history = new SqliteHistoryStore(db.sqlite, { now: () => now + 3 * HOUR });
  const rounds = quick ? 60 : 180;
  const insertMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const at = now + r * 10_000;
    const batch: SampleRow[] = ids.map((minerId, i) => ({
      minerId,
      at,
      online: true,
      hashrateGhs: 1100 + ((i + r) % 50),
      powerW: 15 + (r % 3),
      efficiencyJth: 13.6,
      temperatures: { chip: 55 + (r % 4), vr: 48 },
      fanRpm: 4000,
      fanPercent: 80,
      sharesAccepted: r,
      sharesRejected: 0,
    }));
    const t0 = performance.now();
    history.insert(batch);
    insertMs.push(performance.now() - t0);
  }
  const size3 = fileBytes(db, file);

  // 30-day charts (hour roll-ups, 720 points) and 24-hour ones (minute roll-ups) of random miners.
  const chart = (rangeMs: number, count: number) => {
    const ms: number[] = [];
    let points = 0;
    for (let i = 0; i < count; i++) {
      const id = ids[Math.floor(Math.random() * ids.length)];
      const t0 = performance.now();
      const res = history.query({ minerId: id, from: now - rangeMs, to: now });
      ms.push(performance.now() - t0);
      points = res.points.length;
    }
    return { ...summarize(ms, 2), points };
  };
  const month = chart(30 * DAY, quick ? 200 : 1000);
  const day = chart(minuteDays * DAY, quick ? 100 : 300);
  db.close();

  const perRow = (bytes: number, rows: number) => round(bytes / rows, 1);
  const hourRowB = perRow(size1 - size0, hourFill.rows);
  const minuteRowB = perRow(size2 - size1, minuteFill.rows);
  // Each round adds `miners` raw rows (its roll-up rows are replaced in place, a few new per minute).
  const rawRowB = perRow(size3 - size2, rounds * miners);
  const { rawMs, minuteMs } = FLEET_DEFAULTS.retention;
  const mbOf = (bytes: number) => round(bytes / 1e6, 2);
  return {
    miners,
    fill: {
      hour_rows: hourFill.rows,
      hour_fill_s: hourFill.seconds,
      minute_rows: minuteFill.rows,
      minute_fill_s: minuteFill.seconds,
    },
    insert_round_ms: { samples_per_round: miners, ...summarize(insertMs, 2) },
    query_30d_ms: month,
    query_24h_minutes_ms: day,
    bytes_per_row: { raw: rawRowB, minute: minuteRowB, hour: hourRowB },
    // A miner read every 10 s for a month: 259,200 raw samples, 43,200 minute and 720 hour rows.
    mb_per_miner_month: {
      hour: mbOf(720 * hourRowB),
      minute: mbOf(43_200 * minuteRowB),
      raw: mbOf(259_200 * rawRowB),
      // What a miner costs once the history is at its default retention (raw 48 h, minute 30 d, hour 30 d of the 2 y).
      steady_state_with_default_retention: mbOf(
        (rawMs / 10_000) * rawRowB + (minuteMs / 60_000) * minuteRowB + 720 * hourRowB,
      ),
    },
    db_file_mb: mbOf(size3),
  };
}

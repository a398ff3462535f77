// The history: roll-ups against hand-checked numbers (an injected clock), queries at each
// resolution, retention pruning in batches, and a failed write (database full) made an event.
import t from 'tap';
import { silentLogger } from '../../shared/log.js';
import { Pruner } from '../../fleet/history/prune.js';
import { SqliteHistoryStore } from '../../fleet/history/store.js';
import type { FleetEvent, SampleRow } from '../../fleet/types.js';
import type { Driver, Telemetry } from '../../runner/drivers/types.js';
import { waitFor } from '../helpers/mvm-process.js';
import { fleetDb, startCollector } from './helpers.js';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

function sample(
  at: number,
  hashrateGhs: number | null,
  powerW: number | null,
  temperatures: Record<string, number>,
  minerId = 'm',
): SampleRow {
  return {
    minerId,
    at,
    online: true,
    hashrateGhs,
    powerW,
    efficiencyJth: null,
    temperatures,
    fanRpm: null,
    fanPercent: null,
    sharesAccepted: null,
    sharesRejected: null,
  };
}

t.test('roll-ups match the raw samples, whichever way they were inserted', async (t) => {
  let now = T0 + 120_000;
  const { db, stores } = fleetDb(t, { now: () => now });
  stores.history.insert([sample(T0, 100, 10, { chip: 50, vr: 40 }), sample(T0 + 10_000, 200, 20, { chip: 60 })]);
  // The first store dies without writing its open buckets (kill -9); a second one (the restarted
  // daemon) rebuilds them from the raw samples as it merges into them.
  const again = new SqliteHistoryStore(db.sqlite, { now: () => now });
  again.insert([sample(T0 + 20_000, 300, null, { chip: 55 }), sample(T0 + 70_000, 400, 40, { chip: 70 })]);
  again.insert([sample(T0 + 20_000, 999, 999, { chip: 999 })]); // the same reading again: ignored
  // It dies too; the next one repairs the open buckets at start, and reads only the tables.
  const h = new SqliteHistoryStore(db.sqlite, { now: () => now });
  t.equal(h.repair(), 2, "the miner's newest minute and hour buckets");

  const minute = h.query({ minerId: 'm', from: T0, to: T0 + 120_000, stepMs: 60_000 });
  t.equal(minute.resolution, 'minute');
  t.equal(minute.stepMs, 60_000);
  t.same(
    minute.points.map((p) => [p.t, p.n]),
    [
      [T0, 3],
      [T0 + 60_000, 1],
    ],
  );
  const m0 = minute.points[0];
  t.same(m0.hashrateGhs, { min: 100, mean: 200, max: 300 });
  t.same(m0.powerW, { min: 10, mean: 15, max: 20 }, 'a null power is not a zero');
  t.same(m0.temperatures, { chip: { min: 50, mean: 55, max: 60 }, vr: { min: 40, mean: 40, max: 40 } });
  t.equal(m0.efficiencyJth, null);

  const hour = h.query({ minerId: 'm', from: T0, to: T0 + 3_600_000, stepMs: 3_600_000 });
  t.equal(hour.resolution, 'hour');
  t.equal(hour.points.length, 1);
  t.equal(hour.points[0].n, 4);
  t.same(hour.points[0].hashrateGhs, { min: 100, mean: 250, max: 400 });
  t.equal(hour.points[0].powerW!.min, 10);
  t.equal(hour.points[0].powerW!.max, 40);
  t.ok(Math.abs(hour.points[0].powerW!.mean - 70 / 3) < 1e-9);
  t.same(hour.points[0].temperatures.chip, { min: 50, mean: 58.75, max: 70 });

  // Raw, with and without a step (raw samples merged into 30 s buckets).
  const raw = h.query({ minerId: 'm', from: T0, to: T0 + 120_000 });
  t.equal(raw.resolution, 'raw');
  t.equal(raw.stepMs, 0);
  t.same(
    raw.points.map((p) => p.hashrateGhs?.mean),
    [100, 200, 300, 400],
  );
  const rawByMinute = h.query({ minerId: 'm', from: T0, to: T0 + 120_000, stepMs: 30_000 });
  t.equal(rawByMinute.resolution, 'raw');
  t.same(
    rawByMinute.points.map((p) => [p.t, p.n]),
    [
      [T0, 3],
      [T0 + 60_000, 1],
    ],
  );

  // Minute buckets merged into a coarser step.
  const twoMinutes = h.query({ minerId: 'm', from: T0, to: T0 + 240_000, stepMs: 120_000 });
  t.equal(twoMinutes.resolution, 'minute');
  t.same(
    twoMinutes.points.map((p) => [p.t, p.n, p.hashrateGhs?.mean]),
    [[T0, 4, 250]],
  );

  // The range picks the table when no step is given; beyond a table's retention, a coarser one.
  t.equal(h.resolutionFor({ minerId: 'm', from: now - 3_600_000, to: now }), 'raw');
  t.equal(h.resolutionFor({ minerId: 'm', from: now - 86_400_000, to: now }), 'minute');
  t.equal(h.resolutionFor({ minerId: 'm', from: now - 30 * 86_400_000, to: now }), 'hour');
  now = T0 + 3 * 86_400_000;
  t.equal(
    h.resolutionFor({ minerId: 'm', from: T0, to: T0 + 60_000, stepMs: 1000 }),
    'minute',
    'raw samples of 3 days ago are gone: minutes',
  );
  t.throws(() => h.query({ minerId: 'm', from: T0 + 1, to: T0 }), {
    code: 'USAGE',
    message: /from .* must be before to/,
  });
  t.throws(() => h.query({ minerId: 'm', from: T0, to: T0 + 1, stepMs: -5 }), { code: 'USAGE' });

  t.equal(h.latest().get('m')!.hashrateGhs, 400, 'the latest sample per miner');
});

t.test('retention prunes each table in small batches', async (t) => {
  let now = T0;
  const retention = { rawMs: 3_600_000, minuteMs: 2 * 3_600_000, hourMs: 86_400_000 };
  const { db, stores } = fleetDb(t, { now: () => now, retention });
  // Three hours of a sample a minute for two miners.
  for (const id of ['a', 'b']) {
    stores.history.insert(Array.from({ length: 180 }, (_, i) => sample(T0 + i * 60_000, i, i, {}, id)));
  }
  stores.history.persistOpen(); // the open buckets too (written when they close, or every minute)
  now = T0 + 180 * 60_000;
  const count = (table: string) => (db.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  t.equal(count('samples'), 360);
  const pruner = new Pruner({ sqlite: db.sqlite, retention, now: () => now, log: silentLogger(), batch: 7 });
  const r = await pruner.pruneOnce();
  // Raw: kept from now - 1 h = minute 120 on; minute roll-ups from minute 60; hours: all (1 day).
  t.same(r, { samples: 2 * 120, samples_minute: 2 * 60, samples_hour: 0, events: 0 });
  t.equal(count('samples'), 120);
  t.equal(count('samples_minute'), 240);
  t.equal(count('samples_hour'), 6);
  const oldest = db.sqlite.prepare('SELECT min(at) AS at FROM samples').get() as { at: number };
  t.equal(oldest.at, T0 + 120 * 60_000);
  t.same(
    await pruner.pruneOnce(),
    { samples: 0, samples_minute: 0, samples_hour: 0, events: 0 },
    'a second pass finds nothing',
  );
  // Events older than the hour roll-ups' retention go too (ten, seven a batch).
  for (let i = 0; i < 10; i++) stores.events.append({ kind: 'online', message: `old ${i}` });
  now += 2 * 86_400_000;
  stores.events.append({ kind: 'online', message: 'recent' });
  t.same(await pruner.pruneOnce(), { samples: 120, samples_minute: 240, samples_hour: 6, events: 10 });
  t.same(
    stores.events.recent().map((e) => e.message),
    ['recent'],
  );
  await pruner.stop();
});

function reading(id: string): Telemetry {
  return {
    device: id,
    driver: 'axeos',
    at: new Date().toISOString(),
    online: true,
    hashrateGhs: 1000,
    expectedHashrateGhs: null,
    powerW: 15,
    efficiencyJth: 15,
    temperatures: { chip: 55 },
    fans: [{ name: 'fan', rpm: 4000, percent: 80 }],
    sharesAccepted: 1,
    sharesRejected: 0,
    uptimeS: 1,
    firmwareVersion: 'v2',
    paused: false,
    raw: null,
  };
}

t.test('a history write that fails (database full) is an error event, and its end another', async (t) => {
  const { db, stores } = fleetDb(t);
  // A driver that always answers (each reading a new timestamp): the database is what fails here.
  let seq = 0;
  const fake = (id: string): Driver =>
    ({
      telemetry: async () => ({ ...reading(id), at: new Date(Date.now() + seq++).toISOString() }),
      close: async () => undefined,
    }) as unknown as Driver;
  stores.miners.syncConfigMiners(
    Array.from({ length: 20 }, (_, i) => ({
      id: `m${i}`,
      driver: 'axeos' as const,
      address: `http://127.0.0.1:${i + 1}`,
      options: {},
      tags: [],
      source: 'config' as const,
    })),
  );
  const heard: FleetEvent[] = [];
  stores.events.subscribe((e) => {
    if (e.kind === 'retention') heard.push(e);
  });
  await startCollector(
    t,
    stores,
    { pollIntervalMs: 100 },
    {
      createDriver: (spec) => fake(spec.name),
      flushIntervalMs: 50,
    },
  );
  await waitFor(() => stores.history.latest().size === 20, 'samples of every miner');
  const pages = db.sqlite.pragma('page_count', { simple: true }) as number;
  db.sqlite.pragma(`max_page_count = ${pages}`);
  const failed = await waitFor(() => heard.find((e) => e.level === 'error'), 'the write failure event', 30_000);
  t.match(failed.message, /history writes fail: .*full/);
  t.match(failed.data, { hint: /free disk space|retention/ });
  t.equal(heard.filter((e) => e.level === 'error').length, 1, 'one event per episode, not one per batch');
  db.sqlite.pragma('max_page_count = 1073741823');
  const back = await waitFor(() => heard.find((e) => e.level === 'info'), 'the recovery event', 30_000);
  t.match(back.message, /history writes work again \(\d+ samples lost/);
  t.ok(
    stores.events.recent({ kinds: ['retention'] }).some((e) => e.level === 'info'),
    'stored once the disk has room',
  );
});

// createEnergy over the fleet's own SQLite stores (fleet.sqlite beside energy.sqlite): cost from
// real samples and their roll-ups, the hour roll-ups for what the minute ones no longer hold, and
// rule events in the fleet's event store.
import t from 'tap';
import { openFleetDb } from '../../fleet/db/open.js';
import { createEnergy } from '../../fleet/energy/wire.js';
import { createFleetStores } from '../../fleet/store/index.js';
import type { SampleRow } from '../../fleet/types.js';
import { SLOT_MS, londonMidnight } from '../../shared/london-time.js';
import { silentLogger } from '../../shared/log.js';
import { tempDir } from '../helpers/tmp.js';
import { FakeActuator } from './support.js';

t.test('cost and rules over the real fleet stores', async (t) => {
  const dir = tempDir(t);
  const day = londonMidnight(2026, 12, 4);
  const clock = { now: day + 4 * 3_600_000 };
  const fdb = openFleetDb(`${dir}/fleet.sqlite`);
  t.teardown(() => fdb.close());
  const stores = createFleetStores(fdb, { now: () => clock.now });
  stores.miners.add({ id: 'gamma', driver: 'axeos', address: 'http://127.0.0.1:1', options: {}, tags: [] }, 'test');
  // 20 W at 1 TH/s, a sample every 30 s from 00:00 to 02:00.
  const samples: SampleRow[] = [];
  for (let at = day; at < day + 2 * 3_600_000; at += 30_000) {
    samples.push({
      minerId: 'gamma',
      at,
      online: true,
      hashrateGhs: 1000,
      powerW: 20,
      efficiencyJth: 20,
      temperatures: { chip: 55 },
      fanRpm: 3000,
      fanPercent: 40,
      sharesAccepted: null,
      sharesRejected: null,
    });
  }
  stores.history.insert(samples);
  const energy = createEnergy({
    dataDir: dir,
    config: { source: 'flat', flatPrice: 30, fetchIntervalMs: 3_600_000, backfillMs: 0 },
    miners: stores.miners,
    history: stores.history,
    events: stores.events,
    desired: stores.desired,
    actuator: new FakeActuator(),
    log: silentLogger(),
    now: () => clock.now,
  });
  t.teardown(() => energy.close());
  // Four slots at 10, 20, 30, 40 p.
  energy.prices.upsert(
    [10, 20, 30, 40].map((p, i) => ({
      start: day + i * SLOT_MS,
      end: day + (i + 1) * SLOT_MS,
      priceIncVat: p,
      priceExcVat: null,
      source: 't',
    })),
    clock.now,
  );
  const c = energy.cost.miner('gamma', { from: day, to: day + 4 * 3_600_000 });
  // 20 W × 0.5 h = 0.01 kWh per slot: 0.1 + 0.2 + 0.3 + 0.4 = 1.0 p
  t.same(c.total, { kWh: 0.04, cost: 1, estimatedKWh: 0, efficiencyJth: 20 });
  // A month's range: the half-hour step comes from the minute roll-ups.
  const month = energy.cost.fleet(stores.miners, { from: day - 20 * 86_400_000, to: day + 4 * 3_600_000 });
  t.same(month.total, { kWh: 0.04, cost: 1, estimatedKWh: 0, efficiencyJth: 20 });
  t.same(
    month.days.map((d) => d.period),
    ['2026-12-04'],
  );

  stores.desired.set('gamma', { mode: 'turbo' }, 'test');
  energy.rules.add(
    {
      name: 'eco when dear',
      trigger: { type: 'price_above', threshold: 25 },
      action: { type: 'set_mode', mode: 'eco' },
      until: true,
    },
    'test',
  );
  clock.now = day + 2 * SLOT_MS;
  await energy.engine.evaluate();
  energy.prices.upsert(
    [{ start: day + 4 * SLOT_MS, end: day + 5 * SLOT_MS, priceIncVat: 12, priceExcVat: null, source: 't' }],
    clock.now,
  );
  clock.now = day + 4 * SLOT_MS + 1;
  const fa = energy.actuator as FakeActuator;
  fa.calls = [];
  await energy.engine.evaluate();
  t.same(fa.calls, ['mode=turbo gamma rule:eco when dear'], 'undone to the mode the fleet wants for the miner');
  const ev = stores.events.recent({ kinds: ['rule'] });
  t.same(
    ev.map((e) => e.data?.outcome),
    ['undone', 'fired'],
  );
  t.equal(ev[1]!.minerId, 'gamma');
  t.equal(ev[1]!.actor, 'rule:eco when dear');
});

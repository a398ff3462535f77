// Prices from `mvm sim octopus` (a real process): fetched, paged, stored, newest-first handled,
// the afternoon publication of tomorrow, negative slots, a clock-change day, and a source outage
// during which the last known prices keep serving.
import t from 'tap';
import { ApiError } from '../../shared/errors.js';
import { londonDayStart, londonMidnight, SLOT_MS } from '../../shared/london-time.js';
import { silentLogger } from '../../shared/log.js';
import { openEnergyDb } from '../../fleet/energy/db/open.js';
import { PriceFetcher } from '../../fleet/energy/fetcher.js';
import { OctopusClient } from '../../fleet/energy/octopus.js';
import { PriceStore } from '../../fleet/energy/store.js';
import { agilePrice, hasPlunge, plungeSlot } from '../../sim/octopus/prices.js';
import { startMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { MemoryEvents } from './support.js';

t.teardown(async () => {
  await stopAllMvm();
});

async function startSim(now: string, extra: string[] = []) {
  const p = startMvm(['sim', 'octopus', '--listen', '127.0.0.1:0', '--region', 'C', '--now', now, ...extra]);
  const line = await p.waitForLine(/mvm sim octopus listening on /);
  const url = line.split(' on ')[1]!.trim();
  const control = async (path: string, body: unknown) => {
    const res = await fetch(url + path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    t.equal(res.status, 200, `${path} accepted`);
  };
  return { p, url, control };
}

t.test('the client pages through newest-first results and stores every slot', async (t) => {
  const sim = await startSim('2026-12-04T10:00:00Z');
  const client = new OctopusClient({ product: 'AGILE-24-10-01', region: 'C', baseUrl: sim.url }, { pageSize: 20 });
  const from = londonMidnight(2026, 12, 4);
  const slots = await client.fetch({ from, to: from + 2 * 86_400_000 });
  // Before 16:00 only today is published: through 23:00 UK time (GMT in December).
  t.equal(slots.length, 46, '00:00–23:00 = 46 slots, over 3 pages of 20');
  t.equal(slots[0]!.start, from, 'oldest first after sorting');
  t.equal(slots.at(-1)!.end, from + 23 * 3_600_000);
  t.same(slots[10]!.priceIncVat, agilePrice(from + 10 * SLOT_MS, 'C').valueIncVat);
  const reqs = (await (await fetch(sim.url + '/_sim/stats')).json()) as { requests: number };
  t.equal(reqs.requests, 3, 'three pages fetched');

  // 16:00 UK time: tomorrow (to 23:00) appears.
  await sim.control('/_sim/clock', { now: '2026-12-04T16:05:00Z' });
  const later = await client.fetch({ from, to: from + 2 * 86_400_000 });
  t.equal(later.length, 46 + 48, 'tomorrow published in the afternoon');

  await t.rejects(
    new OctopusClient({ product: 'AGILE-24-10-01', region: 'D', baseUrl: sim.url }).fetch({
      from,
      to: from + 86_400_000,
    }),
    ApiError,
    'a region the server does not serve is a 404',
  );
});

t.test('clock-change days have 46 and 50 slots; negative prices are kept', async (t) => {
  const sim = await startSim('2026-10-26T12:00:00Z');
  const client = new OctopusClient({ product: 'AGILE-24-10-01', region: 'C', baseUrl: sim.url });
  // 2026-10-25: BST ends (50 slots); 2026-03-29: BST starts (46 slots).
  const autumn = await client.fetch({ from: londonMidnight(2026, 10, 25), to: londonMidnight(2026, 10, 26) });
  t.equal(autumn.length, 50, 'the autumn clock change day has 50 slots');
  await sim.control('/_sim/clock', { now: '2026-03-30T12:00:00Z' });
  const spring = await client.fetch({ from: londonMidnight(2026, 3, 29), to: londonMidnight(2026, 3, 30) });
  t.equal(spring.length, 46, 'the spring clock change day has 46 slots');
  // Find a plunge day in the last week and check the negative slot arrives negative.
  let day = londonDayStart(Date.parse('2026-03-30T12:00:00Z'));
  for (let i = 0; i < 7 && !hasPlunge(day, 'C'); i++) day -= 86_400_000;
  day = londonDayStart(day);
  t.ok(hasPlunge(day, 'C'), 'a plunge day within a week');
  const slots = await client.fetch({ from: day, to: day + 86_400_000 });
  const neg = slots.find((s) => s.start === plungeSlot(day));
  t.ok(neg && neg.priceIncVat < 0, `the 04:00 slot is negative (${neg?.priceIncVat})`);
});

t.test('the fetcher stores prices, survives an outage on the last known ones and says so', async (t) => {
  const sim = await startSim('2026-12-04T10:00:00Z');
  const edb = openEnergyDb(':memory:');
  t.teardown(() => edb.close());
  const store = new PriceStore(edb, 30);
  const events = new MemoryEvents();
  let now = Date.parse('2026-12-04T10:00:00Z');
  const fetcher = new PriceFetcher({
    source: new OctopusClient({ product: 'AGILE-24-10-01', region: 'C', baseUrl: sim.url }, { pageSize: 50 }),
    store,
    events,
    log: silentLogger(),
    now: () => now,
    attempts: 3,
    retryBaseMs: 5,
    backfillMs: 86_400_000,
  });
  let heard = 0;
  fetcher.onPrices(() => heard++);
  const first = await fetcher.fetchOnce();
  t.ok(first.ok);
  t.equal(first.slots, 48 + 46, 'yesterday and today (to 23:00)');
  t.equal(store.knownUntil(), londonMidnight(2026, 12, 4) + 23 * 3_600_000);
  t.equal(heard, 1, 'listeners hear about new prices');
  t.equal(store.priceAt(now).price, agilePrice(Date.parse('2026-12-04T10:00:00Z'), 'C').valueIncVat);

  // Outage: every request is a 500. The fetch fails after its retries; the prices stay.
  await sim.control('/_sim/faults', { error: 1 });
  now += 3_600_000;
  const down = await fetcher.fetchOnce();
  t.notOk(down.ok);
  t.match(down.error, /500/);
  t.equal(store.range({ from: 0, to: Infinity }).length, 94, 'nothing removed');
  t.equal(store.priceAt(now).estimated, false, 'the current slot still has its known price');
  t.ok(store.status(fetcher.sourceId)?.stale, 'the source is marked stale');
  const warn = events.list.filter((e) => e.kind === 'price' && e.level === 'warn');
  t.equal(warn.length, 1);
  t.match(warn[0]!.message, /unreachable[\s\S]*keep serving/);
  // A second failure does not repeat the event; garbage JSON is an outage too.
  await sim.control('/_sim/faults', { malformed: 1 });
  const garbage = await fetcher.fetchOnce();
  t.notOk(garbage.ok);
  t.match(garbage.error, /not JSON/);
  t.equal(events.list.filter((e) => e.kind === 'price' && e.level === 'warn').length, 1, 'one event per outage');

  // Back, and it is the afternoon: tomorrow arrives.
  await sim.control('/_sim/faults', {});
  await sim.control('/_sim/clock', { now: '2026-12-04T16:30:00Z' });
  now = Date.parse('2026-12-04T16:30:00Z');
  const back = await fetcher.fetchOnce();
  t.ok(back.ok);
  t.equal(back.added, 48, "tomorrow's 48 slots are new");
  t.notOk(store.status(fetcher.sourceId)?.stale);
  t.ok(
    events.list.some((e) => /is back/.test(e.message)),
    'an event says the source is back',
  );
  t.ok(
    events.list.some((e) => /prices known through 2026-12-05T23:00:00.000Z/.test(e.message)),
    'an event says tomorrow is known',
  );
});

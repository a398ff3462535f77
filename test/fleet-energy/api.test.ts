// The energy and automation route plugins in a fastify app, wired by createEnergy as the daemon
// does: prices from `mvm sim octopus`, cost accounting against hand-computed values, rule CRUD
// with refusals, types, dry-runs, and a webhook delivered (after a 500) to a local HTTP server.
import Fastify from 'fastify';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createEnergy } from '../../fleet/energy/wire.js';
import { webhookNotifier } from '../../fleet/automation/notify.js';
import { OctopusClient } from '../../fleet/energy/octopus.js';
import { SLOT_MS, londonMidnight } from '../../shared/london-time.js';
import { silentLogger } from '../../shared/log.js';
import { agilePrice } from '../../sim/octopus/prices.js';
import { startMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { FakeActuator, FixedHistory, FixedMiners, MemoryEvents, minerView, octopusEnergyConfig } from './support.js';

t.teardown(async () => {
  await stopAllMvm();
});

const DAY = londonMidnight(2026, 12, 4);
const stat = (v: number) => ({ min: v, mean: v, max: v });
const point = (at: number, w: number, ghs: number | null) => ({
  t: at,
  n: 60,
  hashrateGhs: ghs === null ? null : stat(ghs),
  powerW: stat(w),
  efficiencyJth: null,
  temperatures: {},
  fanRpm: null,
  fanPercent: null,
});

async function setup(
  t: { teardown(fn: () => void | Promise<void>): void },
  sourceUrl: string,
  extra: { notify?: ReturnType<typeof webhookNotifier> } = {},
) {
  const clock = { now: DAY + 10 * 3_600_000 };
  const miners = new FixedMiners([
    minerView('a'),
    minerView('b', { model: 'Avalon Nano 3S', driver: 'cgminer', tags: ['shed'] }),
  ]);
  const minerStore = { list: () => miners.list(), get: (id: string) => miners.list().find((m) => m.id === id) };
  const history = new FixedHistory(new Map());
  const events = new MemoryEvents();
  const actuator = new FakeActuator();
  const energy = createEnergy({
    dataDir: ':memory:',
    config: octopusEnergyConfig(sourceUrl),
    source: new OctopusClient({ product: 'AGILE-24-10-01', region: 'C', baseUrl: sourceUrl }, { pageSize: 25 }),
    miners: minerStore,
    history,
    events,
    actuator,
    log: silentLogger(),
    now: () => clock.now,
    notify: extra.notify,
  });
  const app = Fastify();
  await energy.routes(app);
  await app.ready();
  t.teardown(async () => {
    await app.close();
    energy.close();
  });
  const req = async (method: string, url: string, payload?: unknown) => {
    const r = await app.inject({ method: method as 'GET', url, payload: payload as object });
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
  };
  return { clock, energy, history, events, actuator, req, app };
}

async function octopus() {
  const p = startMvm(['sim', 'octopus', '--listen', '127.0.0.1:0', '--region', 'C', '--now', '2026-12-04T10:00:00Z']);
  return (await p.waitForLine(/listening on /)).split(' on ')[1]!.trim();
}

t.test('prices: refresh, current, next, timeline', async (t) => {
  const h = await setup(t, await octopus());
  const r = await h.req('POST', '/api/dashboard/energy/refresh');
  t.equal(r.status, 200);
  t.equal(r.body.slots, 46, 'today to 23:00, over two pages');
  const cur = await h.req('GET', '/api/dashboard/energy/current');
  t.equal(cur.body.slot.validFrom, '2026-12-04T10:00:00.000Z');
  t.equal(cur.body.price, agilePrice(DAY + 20 * SLOT_MS, 'C').valueIncVat);
  t.equal(cur.body.estimated, false);
  t.equal(cur.body.source.id, 'octopus:AGILE-24-10-01:C');
  t.equal(cur.body.source.stale, false);
  const next = await h.req('GET', '/api/dashboard/energy/next');
  t.equal(next.body.slot.validFrom, '2026-12-04T10:30:00.000Z');
  const tl = await h.req('GET', '/api/dashboard/energy/timeline?from=2026-12-04T16:00:00Z&to=2026-12-04T19:00:00Z');
  t.equal(tl.body.slots.length, 6);
  t.same(
    tl.body.slots.map((s: { priceIncVat: number }) => s.priceIncVat),
    [32, 33, 34, 35, 36, 37].map((_, i) => agilePrice(DAY + (32 + i) * SLOT_MS, 'C').valueIncVat),
  );
  const bad = await h.req('GET', '/api/dashboard/energy/timeline?from=yesterday');
  t.equal(bad.status, 400);
  t.match(bad.body.message, /from is not a time: "yesterday"/);
});

t.test('cost accounting matches the hand-computed values', async (t) => {
  const h = await setup(t, 'http://127.0.0.1:9');
  // Prices: 00:00 10 p, 00:30 20 p; 23:30 unknown (flat 30 p); next day 00:00 −5 p.
  const NEXT = londonMidnight(2026, 12, 5);
  h.energy.prices.upsert(
    [
      { start: DAY, end: DAY + SLOT_MS, priceIncVat: 10, priceExcVat: null, source: 't' },
      { start: DAY + SLOT_MS, end: DAY + 2 * SLOT_MS, priceIncVat: 20, priceExcVat: null, source: 't' },
      { start: NEXT, end: NEXT + SLOT_MS, priceIncVat: -5, priceExcVat: null, source: 't' },
    ],
    0,
  );
  // a: 100 W at 1 TH/s for 00:00–01:00, then 200 W (no hashrate) 23:30–00:30.
  h.history.points.set('a', {
    minerId: 'a',
    resolution: 'hour',
    stepMs: 3_600_000,
    points: [point(DAY, 100, 1000), point(NEXT - SLOT_MS, 200, null)],
  });
  // b: 50 W at 0.5 TH/s for 00:30–01:00.
  h.history.points.set('b', {
    minerId: 'b',
    resolution: 'minute',
    stepMs: SLOT_MS,
    points: [point(DAY + SLOT_MS, 50, 500)],
  });
  const range = 'from=2026-12-04T00:00:00Z&to=2026-12-06T00:00:00Z';
  const a = await h.req('GET', `/api/dashboard/energy/cost/a?${range}`);
  t.equal(a.status, 200);
  // 0.05 kWh × 10 p + 0.05 kWh × 20 p = 1.5 p; 0.1 kWh × 30 p (estimated) = 3 p; 0.1 kWh × −5 p = −0.5 p
  t.same(a.body.total, { kWh: 0.3, cost: 4, estimatedKWh: 0.1, efficiencyJth: 100 });
  t.same(a.body.days, [
    { period: '2026-12-04', kWh: 0.2, cost: 4.5, estimatedKWh: 0.1, efficiencyJth: 100 },
    { period: '2026-12-05', kWh: 0.1, cost: -0.5, estimatedKWh: 0, efficiencyJth: null },
  ]);
  t.same(a.body.months, [{ period: '2026-12', kWh: 0.3, cost: 4, estimatedKWh: 0.1, efficiencyJth: 100 }]);
  const fleet = await h.req('GET', `/api/dashboard/energy/cost?${range}`);
  // b adds 0.025 kWh × 20 p = 0.5 p; efficiency (100 W·1 h + 50 W·0.5 h) / (1 TH·1 h + 0.5 TH·0.5 h) = 125 / 1.25 = 100 J/TH
  t.same(fleet.body.total, { kWh: 0.325, cost: 4.5, estimatedKWh: 0.1, efficiencyJth: 100 });
  t.same(
    fleet.body.miners.map((m: { minerId: string }) => m.minerId),
    ['a', 'b'],
  );
  t.equal(fleet.body.days[0].cost, 5);
  t.equal((await h.req('GET', '/api/dashboard/energy/cost/nope')).status, 404);
});

t.test('rules: create, refuse, list, types, dry-run, edit, delete', async (t) => {
  const h = await setup(t, await octopus());
  await h.req('POST', '/api/dashboard/energy/refresh');
  const bad = await h.req('POST', '/api/automation/', {
    name: 'x',
    trigger: { type: 'price_above' },
    action: { type: 'set_mode', mode: 'eco' },
    conditions: { miners: ['c'] },
  });
  t.equal(bad.status, 400);
  t.same(
    bad.body.problems.map((p: { path: string }) => p.path),
    ['trigger.threshold', 'conditions.miners'],
  );
  const created = await h.req('POST', '/api/automation/', {
    name: 'eco when dear',
    trigger: { type: 'price_above', threshold: 25 },
    action: { type: 'set_mode', mode: 'eco' },
    until: true,
    hysteresis: 1,
  });
  t.equal(created.status, 201);
  t.equal(created.body.id, 1);
  t.equal(
    (
      await h.req('POST', '/api/automation/', {
        name: 'eco when dear',
        trigger: { type: 'price_negative' },
        action: { type: 'pause' },
      })
    ).status,
    409,
  );
  const list = await h.req('GET', '/api/automation/');
  t.equal(list.body.rules.length, 1);
  t.same(list.body.rules[0].trigger, { type: 'price_above', threshold: 25 });
  const types = await h.req('GET', '/api/automation/triggers/types');
  t.ok(types.body.types.some((x: { type: string }) => x.type === 'cheapest_slots'));
  const actions = await h.req('GET', '/api/automation/actions/types');
  t.same(
    actions.body.types.map((x: { type: string }) => x.type),
    ['set_mode', 'pause', 'resume', 'switch_pool', 'restart', 'set_fan', 'notify'],
  );

  const dry = await h.req('POST', '/api/automation/1/dry-run');
  t.equal(dry.status, 200);
  t.same(dry.body.miners, ['a', 'b']);
  t.same(
    dry.body.now.map((n: { would: string }) => n.would),
    ['nothing', 'nothing'],
    'at 10:00 the price is below 25 p',
  );
  // Expected from the simulator's curve: fire at the first slot above 25 p from 10:00, undo at the first at or below 24 p.
  const want: string[] = [];
  let on = false;
  for (let i = 20; i < 46; i++) {
    const v = agilePrice(DAY + i * SLOT_MS, 'C').valueIncVat;
    if (!on && v > 25) {
      want.push(`${new Date(DAY + i * SLOT_MS).toISOString()} fire`);
      on = true;
    } else if (on && v <= 24) {
      want.push(`${new Date(DAY + i * SLOT_MS).toISOString()} undo`);
      on = false;
    }
  }
  t.same(
    dry.body.timeline.map((s: { at: string; would: string }) => `${s.at} ${s.would}`),
    want,
  );
  t.equal(h.actuator.calls.length, 0, 'a dry-run does not act');
  const unsaved = await h.req('POST', '/api/automation/dry-run', {
    name: 'pause nano',
    trigger: { type: 'price_below', threshold: 100 },
    action: { type: 'pause' },
    conditions: { models: ['avalon nano 3s'] },
  });
  t.same(unsaved.body.now, [
    {
      miner: 'b',
      would: 'fire',
      holds: true,
      value: agilePrice(DAY + 20 * SLOT_MS, 'C').valueIncVat,
      reason: unsaved.body.now[0].reason,
    },
  ]);
  t.match(unsaved.body.now[0].reason, /^pause: /);
  const temp = await h.req('POST', '/api/automation/dry-run', {
    name: 'hot',
    trigger: { type: 'temperature_above', limit: 70 },
    action: { type: 'set_fan', percent: 100 },
  });
  t.match(temp.body.note, /live readings: only "now"/);

  // Fire it at 17:00, then edit it to a threshold it no longer meets, then delete it.
  h.clock.now = DAY + 34 * SLOT_MS;
  const ev = await h.req('POST', '/api/automation/evaluate');
  t.same(ev.body.decisions.map((d: { kind: string; miner: string }) => `${d.kind} ${d.miner}`).sort(), [
    'fire a',
    'fire b',
  ]);
  const one = await h.req('GET', '/api/automation/1');
  t.same(
    one.body.miners.map((m: { applied: boolean }) => m.applied),
    [true, true],
  );
  const put = await h.req('PUT', '/api/automation/1', {
    name: 'eco when dear',
    trigger: { type: 'price_above', threshold: 25 },
    action: { type: 'set_mode', mode: 'eco' },
    until: true,
    conditions: { miners: ['a'] },
  });
  t.equal(put.status, 200);
  h.actuator.calls = [];
  await h.req('POST', '/api/automation/evaluate');
  t.same(
    h.actuator.calls,
    ['mode=standard b rule:eco when dear'],
    'a miner the edited rule no longer selects is given back',
  );
  h.actuator.calls = [];
  t.equal((await h.req('DELETE', '/api/automation/1')).status, 204);
  t.same(h.actuator.calls, ['mode=standard a rule:eco when dear'], 'deleting a rule undoes what it holds');
  t.equal((await h.req('GET', '/api/automation/1')).status, 404);
});

t.test('a notify rule delivers its webhook to a local HTTP server, retrying a 500', async (t) => {
  const bodies: unknown[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    calls++;
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      if (calls === 1) {
        res.writeHead(500).end('busy');
        return;
      }
      bodies.push({ body: JSON.parse(data), auth: req.headers.authorization });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const h = await setup(t, 'http://127.0.0.1:9', { notify: webhookNotifier({ baseMs: 5 }) });
  h.energy.prices.upsert(
    [{ start: DAY + 20 * SLOT_MS, end: DAY + 21 * SLOT_MS, priceIncVat: -3, priceExcVat: null, source: 't' }],
    0,
  );
  const r = await h.req('POST', '/api/automation/', {
    name: 'tell me',
    trigger: { type: 'price_negative' },
    action: { type: 'notify', url: hook, headers: { authorization: 'Bearer s3cret' } },
    conditions: { miners: ['a'] },
  });
  t.equal(r.status, 201);
  await h.req('POST', '/api/automation/evaluate');
  t.equal(calls, 2, 'one 500, then delivered');
  t.same(bodies, [
    {
      body: {
        rule: 'tell me',
        ruleId: 1,
        miner: 'a',
        phase: 'started',
        trigger: { type: 'price_negative' },
        value: -3,
        reason: '-3 p/kWh < 0 p/kWh',
        at: '2026-12-04T10:00:00.000Z',
      },
      auth: 'Bearer s3cret',
    },
  ]);
  t.ok(h.events.rules().some((e) => e.data?.outcome === 'fired' && /notify http/.test(e.message)));
});

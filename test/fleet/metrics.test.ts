// The fleet's Prometheus registry from fake stores: every series in base units, values matching
// the miners' last readings, mode as a labelled gauge, events and rule firings counted, and the
// endpoints mounted on a fastify app (/healthz and /readyz open, /metrics behind a token when asked).
import t from 'tap';
import Fastify from 'fastify';
import { buildFleetMetrics, FLEET_METRIC_NAMES } from '../../fleet/export/metrics.js';
import { mountObservability } from '../../shared/observe/http.js';
import { isOperatorPath, mountFleetExport } from '../../fleet/export/http.js';
import { parsePromText } from '../helpers/prom-text.js';
import { FakeCollector, FakeDesired, FakeEvents, FakeMiners, minerView, telemetry } from './fakes.js';

function setup() {
  const miners = new FakeMiners([
    minerView('gamma-1'),
    minerView('nano-1', {
      driver: 'cgminer',
      model: undefined,
      hardware: 'nano3s',
      expectedHashrateGhs: 6000,
      last: telemetry('nano-1', { driver: 'cgminer', hashrateGhs: 5900.5, fans: [], temperatures: { board: 61 } }),
    }),
    minerView('dead-1', { status: 'offline', last: null, lastSeenAt: null }),
    minerView('new-1', { status: 'unknown', last: null, lastSeenAt: null }),
  ]);
  const events = new FakeEvents();
  const desired = new FakeDesired();
  const collector = new FakeCollector();
  let price: { perKwh: number; currency: string } | null = null;
  const metrics = buildFleetMetrics({
    miners,
    events,
    desired,
    collector,
    price: () => price,
    modesOf: (m) => (m.driver === 'cgminer' ? ['low', 'med', 'high'] : ['eco', 'standard', 'turbo', 'oc']),
  });
  return { miners, events, desired, collector, metrics, setPrice: (p: typeof price) => (price = p) };
}

t.test('per-miner series in base units', async (t) => {
  const s = setup();
  t.teardown(() => s.metrics.close());
  const p = parsePromText(await s.metrics.registry.metrics());
  const g = { miner: 'gamma-1', model: 'Bitaxe Gamma' };
  t.equal(p.value('mvm_fleet_miner_hashrate_hashes_per_second', g), 1200e9);
  t.equal(p.value('mvm_fleet_miner_expected_hashrate_hashes_per_second', g), 1150e9);
  t.equal(
    p.value('mvm_fleet_miner_expected_hashrate_hashes_per_second', { miner: 'nano-1', model: 'nano3s' }),
    6000e9,
    'config expectation wins',
  );
  t.equal(p.value('mvm_fleet_miner_hashrate_hashes_per_second', { miner: 'nano-1' }), 5900.5e9);
  t.equal(p.value('mvm_fleet_miner_power_watts', g), 18.5);
  t.ok(Math.abs(p.value('mvm_fleet_miner_efficiency_joules_per_hash', g)! - 15.4e-12) < 1e-20);
  t.equal(p.value('mvm_fleet_miner_temperature_celsius', { ...g, sensor: 'chip' }), 55.5);
  t.equal(p.value('mvm_fleet_miner_temperature_celsius', { miner: 'nano-1', sensor: 'board' }), 61);
  t.equal(p.value('mvm_fleet_miner_fan_rpm', { ...g, fan: 'fan0' }), 4200);
  t.equal(p.value('mvm_fleet_miner_fan_ratio', { ...g, fan: 'fan0' }), 0.6);
  t.equal(p.value('mvm_fleet_miner_shares_accepted_total', g), 120);
  t.equal(p.value('mvm_fleet_miner_shares_rejected_total', g), 3);
  t.equal(p.families.get('mvm_fleet_miner_shares_accepted_total')?.type, 'counter');
  t.equal(p.value('mvm_fleet_miner_online', g), 1);
  t.equal(p.value('mvm_fleet_miner_online', { miner: 'dead-1' }), 0);
  t.equal(p.value('mvm_fleet_miner_online', { miner: 'new-1' }), undefined, 'never read: no sample');
  t.equal(p.value('mvm_fleet_miner_hashrate_hashes_per_second', { miner: 'dead-1' }), undefined);
  t.equal(p.value('mvm_fleet_miners', { status: 'online' }), 2);
  t.equal(p.value('mvm_fleet_miners', { status: 'offline' }), 1);
  t.equal(p.value('mvm_fleet_miners', { status: 'unknown' }), 1);
  t.equal(p.value('mvm_fleet_collector_last_round_duration_seconds'), 0.25);
  t.equal(p.value('mvm_fleet_collector_rounds_total'), 7);
  t.equal(p.value('mvm_fleet_collector_in_flight'), 1);
  t.equal(p.all('mvm_fleet_energy_price_per_kwh').length, 0, 'no price known: no sample');
  for (const f of p.families.keys())
    t.ok((FLEET_METRIC_NAMES as readonly string[]).includes(f), `${f} is listed in FLEET_METRIC_NAMES`);
  for (const s of p.samples) t.notOk('job' in s.labels || 'id' in s.labels, `${s.name} has no unbounded label`);
});

t.test('values follow the stores between scrapes', async (t) => {
  const s = setup();
  t.teardown(() => s.metrics.close());
  s.miners.set('gamma-1', { status: 'offline', last: telemetry('gamma-1', { hashrateGhs: 0, powerW: 2 }) });
  s.desired.modes.set('gamma-1', 'eco');
  s.desired.modes.set('nano-1', 'med');
  s.setPrice({ perKwh: -0.0123, currency: 'GBP' });
  s.collector.round = { lastRoundMs: 1500, rounds: 8, inFlight: 0 };
  s.events.append({ kind: 'rule', message: 'cheap power: turbo', actor: 'rule:cheap', data: { rule: 'cheap' } });
  s.events.append({ kind: 'rule', message: 'cheap power: turbo', actor: 'rule:cheap', data: { rule: 'cheap' } });
  s.events.append({ kind: 'refused', level: 'warn', message: 'testbed busy', actor: 'rule:cheap', minerId: 'gamma-1' });
  s.events.append({ kind: 'offline', level: 'warn', message: 'no answer', minerId: 'gamma-1' });
  const p = parsePromText(await s.metrics.registry.metrics());
  t.equal(p.value('mvm_fleet_miner_online', { miner: 'gamma-1' }), 0);
  t.equal(p.value('mvm_fleet_miner_power_watts', { miner: 'gamma-1' }), 2);
  t.equal(p.value('mvm_fleet_miner_mode', { miner: 'gamma-1', mode: 'eco' }), 1);
  t.equal(p.value('mvm_fleet_miner_mode', { miner: 'gamma-1', mode: 'turbo' }), 0);
  t.equal(p.all('mvm_fleet_miner_mode', { miner: 'dead-1' }).length, 0, 'no desired mode: no series');
  t.same(
    p
      .all('mvm_fleet_miner_mode', { miner: 'nano-1' })
      .map((x) => `${x.labels.mode}=${x.value}`)
      .sort(),
    ['high=0', 'low=0', 'med=1'],
    "the miner's own modes",
  );
  t.equal(p.value('mvm_fleet_energy_price_per_kwh', { currency: 'GBP' }), -0.0123, 'negative prices pass through');
  t.equal(p.value('mvm_fleet_collector_rounds_total'), 8);
  t.equal(p.value('mvm_fleet_rule_firings_total', { rule: 'cheap', outcome: 'fired' }), 2);
  t.equal(p.value('mvm_fleet_rule_firings_total', { rule: 'cheap', outcome: 'refused' }), 1);
  t.equal(p.value('mvm_fleet_events_total', { kind: 'offline', level: 'warn' }), 1);
  s.metrics.close();
  s.events.append({ kind: 'offline', level: 'warn', message: 'no answer', minerId: 'gamma-1' });
  const after = parsePromText(await s.metrics.registry.metrics());
  t.equal(after.value('mvm_fleet_events_total', { kind: 'offline', level: 'warn' }), 1, 'closed: no longer counting');
});

t.test('endpoints on a fastify app', async (t) => {
  const s = setup();
  const app = Fastify();
  let dbOpen = true;
  mountObservability(app, {
    registry: s.metrics.registry,
    ready: () => [{ name: 'database', ok: dbOpen, ...(dbOpen ? {} : { detail: 'closed' }) }],
    authorizeMetrics: (req) => {
      if (req.headers.authorization !== 'Bearer sesame')
        throw Object.assign(new Error('token needed'), { statusCode: 401 });
    },
  });
  t.teardown(() => app.close());
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200);
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
  dbOpen = false;
  const notReady = await app.inject({ url: '/readyz' });
  t.equal(notReady.statusCode, 503);
  t.match(notReady.json(), { status: 'not ready', checks: [{ name: 'database', ok: false, detail: 'closed' }] });
  t.equal((await app.inject({ url: '/metrics' })).statusCode, 401);
  const ok = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer sesame' } });
  t.equal(ok.statusCode, 200);
  t.match(ok.headers['content-type'], /text\/plain/);
  t.equal(parsePromText(ok.body).value('mvm_fleet_miner_power_watts', { miner: 'gamma-1' }), 18.5);
});

t.test('mountFleetExport: metrics, health and the docs UI in one call', async (t) => {
  const s = setup();
  const app = Fastify();
  app.get('/healthz', async () => ({ status: 'ok', lifecycle: 'running' }));
  mountFleetExport(app, {
    omit: ['healthz'],
    miners: s.miners,
    events: s.events,
    ready: () => [{ name: 'database', ok: true }],
    document: {
      openapi: '3.0.3',
      info: { title: 'mvm fleet', version: '0' },
      paths: { '/api/miners': { get: { responses: { '200': { description: 'ok' } } } } },
    },
  });
  t.teardown(() => app.close());
  t.equal(
    parsePromText((await app.inject({ url: '/metrics' })).body).value('mvm_fleet_miners', { status: 'online' }),
    2,
  );
  t.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
  t.match((await app.inject({ url: '/healthz' })).json(), { lifecycle: 'running' }, "the app's own /healthz kept");
  const ui = await app.inject({ url: '/docs/' });
  t.equal(ui.statusCode, 200);
  t.match(ui.body, /swagger-ui/);
  t.equal((await app.inject({ url: '/docs/static/swagger-ui-bundle.js' })).statusCode, 200);
  t.match((await app.inject({ url: '/docs/json' })).json(), { info: { title: 'mvm fleet' } });
  t.ok(isOperatorPath('/healthz') && isOperatorPath('/docs/static/index.css') && !isOperatorPath('/api/miners'));
});

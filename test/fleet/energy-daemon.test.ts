// The energy and automation parts inside the real `mvm fleet` daemon: prices from a real
// `mvm sim octopus` process (its clock moved to publish today's prices), a rule created through
// the API (dry-run first) changing a simulated Bitaxe's mode, the CLI's energy and rules
// commands, /openapi.json listing the routes, /api/settings without secrets, /metrics scraped;
// and a testbed rule holding its reservation for the window (with a real factory).
import t from 'tap';
import { startAxeosSim } from '../../sim/index.js';
import { startMvm, stopAllMvm, waitFor } from '../helpers/mvm-process.js';
import { factoryForFleet, startFleet } from './daemon-helpers.js';

t.teardown(() => stopAllMvm());

const DAY = 86_400_000;

async function octopusSim(
  t: { teardown(fn: () => unknown): void },
  nowIso: string,
): Promise<{ url: string; setClock(iso: string): Promise<void> }> {
  const p = startMvm(['sim', 'octopus', '--listen', '127.0.0.1:0', '--region', 'C', '--now', nowIso]);
  t.teardown(() => p.stop().then(() => undefined));
  const url = (await p.waitForLine(/listening on /)).split(' on ')[1]!.trim();
  return {
    url,
    async setClock(iso) {
      const r = await fetch(`${url}/_sim/clock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ now: iso }),
      });
      if (r.status !== 200) throw new Error(`clock: ${r.status}`);
    },
  };
}

const energySection = (url: string) =>
  [
    '[energy]',
    'source = "octopus"',
    'flat_price = 200',
    '[energy.octopus]',
    'product = "AGILE-24-10-01"',
    'region = "C"',
    `base_url = "${url}"`,
    'api_key = "sk_secret_key"',
    '',
  ].join('\n');

t.test('a rule fires on prices from the octopus simulator and changes a Bitaxe through the daemon', async (t) => {
  // published up to three days ago: the daemon knows no price for now (the flat 200 p/kWh)
  const octopus = await octopusSim(t, new Date(Date.now() - 3 * DAY).toISOString());
  const sim = await startAxeosSim({ board: '601', seed: 'energy-daemon' });
  t.teardown(() => sim.close());
  const config = [
    '[fleet]',
    'poll_interval = "300ms"',
    'udp_port = 0',
    '',
    '[miner.gamma]',
    'driver = "axeos"',
    `address = "${sim.url}"`,
    '',
    energySection(octopus.url),
  ].join('\n');
  const fleet = await startFleet(t, config);
  t.match(
    fleet.proc.stdout.join('\n'),
    /mvm fleet energy: prices from Octopus AGILE-24-10-01 region C at http:\/\/127\.0\.0\.1/,
  );
  await waitFor(
    async () => (await fleet.call('GET', '/api/miners/gamma')).body.status === 'online',
    'gamma online',
    30_000,
  );

  const before = await fleet.call('GET', '/api/dashboard/energy/current');
  t.equal(before.status, 200);
  t.match(before.body, { price: 200, estimated: true });

  // the routes are in the OpenAPI document (the web UI shows its energy and automation pages from it)
  const doc = (await fleet.call('GET', '/openapi.json', { token: null })).body;
  for (const p of [
    '/api/dashboard/energy/current',
    '/api/dashboard/energy/timeline',
    '/api/automation/',
    '/api/automation/{id}',
    '/api/automation/dry-run',
    '/api/settings',
  ])
    t.ok(doc.paths[p], `${p} documented`);
  // the docs UI (local assets, no token) shows the same live document, plugins' routes included
  const page = await fetch(`${fleet.url}/docs/`);
  t.equal(page.status, 200, 'the docs UI is served without a token');
  t.match(await page.text(), /swagger/i);
  const docsJson = (await fleet.call('GET', '/docs/json', { token: null })).body;
  t.ok(docsJson.paths?.['/api/automation/'], 'the docs UI reads the live document');

  // settings: the price source, no secret
  const settings = await fleet.call('GET', '/api/settings');
  t.equal(settings.status, 200);
  t.match(settings.body, {
    prices: { source: 'octopus', octopus: { product: 'AGILE-24-10-01', apiKey: 'set' } },
    mqtt: null,
    retention: { rawMs: Number },
  });
  t.notMatch(JSON.stringify(settings.body), /sk_secret_key/);

  const rule = {
    name: 'eco when known',
    trigger: { type: 'price_below', threshold: 150 },
    action: { type: 'set_mode', mode: 'eco' },
    conditions: { miners: ['gamma'] },
  };
  const dry = await fleet.call('POST', '/api/automation/dry-run', { body: rule });
  t.equal(dry.status, 200, JSON.stringify(dry.body));
  t.notMatch(JSON.stringify(dry.body), /"fire(s)?":\s*true/, 'nothing fires at the flat price');
  const read = await fleet.call('POST', '/api/automation/', {
    body: rule,
    token: (await fleet.call('POST', '/api/tokens', { body: { name: 'viewer', role: 'read' } })).body.token,
  });
  t.equal(read.status, 403, 'a read-only token cannot create a rule');
  const created = await fleet.call('POST', '/api/automation/', { body: rule });
  t.equal(created.status, 201, JSON.stringify(created.body));
  t.equal(created.body.updatedBy, 'admin', "the rule names the token's holder");
  const freq = sim.device.settings.frequency;
  await fleet.call('POST', '/api/automation/evaluate');
  t.equal(sim.device.settings.frequency, freq, 'no price known: the rule does not fire');

  // the simulator publishes today's prices; a refresh fetches them and the rule fires
  await octopus.setClock(new Date().toISOString());
  t.equal((await fleet.call('POST', '/api/dashboard/energy/refresh')).status < 300, true);
  await waitFor(
    async () => (await fleet.call('GET', '/api/dashboard/energy/current')).body.estimated === false,
    'a known price now',
    30_000,
  );
  const now = (await fleet.call('GET', '/api/dashboard/energy/current')).body;
  t.ok(now.price < 150, `the Agile price now (${now.price}) is below the threshold`);
  await fleet.call('POST', '/api/automation/evaluate');
  await waitFor(async () => sim.device.settings.frequency === 400, 'gamma in eco', 30_000);
  const ev = (await fleet.call('GET', '/api/dashboard/events/recent?miner=gamma')).body as Array<{
    actor: string;
    message: string;
  }>;
  t.ok(
    ev.some((e) => /^rule:/.test(e.actor)),
    "the change is the rule's event",
  );
  t.equal((await fleet.call('GET', '/api/miners/gamma/modes')).body.desired, 'eco');

  // the CLI
  const cur = await fleet.cli(['energy', 'current']);
  t.equal(cur.code, 0, cur.stderr);
  t.match(cur.stdout, /p\/kWh/);
  const list = await fleet.cli(['rules', 'list']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /eco when known/);

  // /metrics: open by default, the price and the rule's firing in it
  const metrics = await fetch(`${fleet.url}/metrics`);
  t.equal(metrics.status, 200);
  const text = await metrics.text();
  t.match(text, /mvm_fleet_energy_price_per_kwh\{currency="GBP"\} -?\d/);
  t.match(text, /mvm_fleet_miner_mode\{[^}]*mode="eco"[^}]*\} 1/);
  t.match(text, /mvm_fleet_rule_firings_total\{/);
  t.equal(
    (await fleet.call('GET', '/healthz', { token: null })).body.lifecycle,
    'running',
    "the daemon's own /healthz",
  );
});

t.test('[fleet] metrics = "token" needs a token for /metrics', async (t) => {
  const sim = await startAxeosSim({ board: '601', seed: 'energy-metrics' });
  t.teardown(() => sim.close());
  const fleet = await startFleet(
    t,
    [
      '[fleet]',
      'udp_port = 0',
      'metrics = "token"',
      '[miner.g]',
      'driver = "axeos"',
      `address = "${sim.url}"`,
      '',
    ].join('\n'),
  );
  t.equal((await fetch(`${fleet.url}/metrics`)).status, 401);
  const ok = await fetch(`${fleet.url}/metrics`, { headers: { authorization: `Bearer ${fleet.adminToken}` } });
  t.equal(ok.status, 200);
  t.match(await ok.text(), /mvm_fleet_miners/);
});

t.test("a testbed rule keeps the fleet's reservation for its window", async (t) => {
  const octopus = await octopusSim(t, new Date().toISOString());
  const sim = await startAxeosSim({ board: '601', seed: 'energy-tb' });
  t.teardown(() => sim.close());
  const { api, fleetConfig } = await factoryForFleet(t, sim.url);
  const config = fleetConfig(energySection(octopus.url));
  const fleet = await startFleet(t, config);
  await waitFor(
    async () => (await fleet.call('GET', '/api/dashboard/energy/current')).body.estimated === false,
    'a known price now',
    30_000,
  );
  const created = await fleet.call('POST', '/api/automation/', {
    body: {
      name: 'tb eco',
      trigger: { type: 'price_below', threshold: 150 },
      action: { type: 'set_mode', mode: 'eco' },
      until: true,
      conditions: { miners: ['gamma-1.miner'] },
    },
  });
  t.equal(created.status, 201, JSON.stringify(created.body));
  await fleet.call('POST', '/api/automation/evaluate');
  await waitFor(async () => sim.device.settings.frequency === 400, 'the testbed device in eco', 30_000);
  const tb = (await api.call('GET', '/v1/testbeds/gamma-1')).body;
  t.match(
    tb.lock,
    { kind: 'reservation', owner: 'fleet' },
    "the reservation is held for the rule's window, not released after the action",
  );
  await fleet.call('POST', '/api/automation/evaluate');
  t.equal(sim.device.settings.frequency, 400, 'the next evaluation keeps the device in eco');
  t.match((await api.call('GET', '/v1/testbeds/gamma-1')).body.lock, { owner: 'fleet' }, 'still held');
  const hist = (await api.call('GET', '/v1/testbeds/gamma-1/history?limit=20')).body.events.map(
    (e: { kind: string }) => e.kind,
  );
  t.equal(hist.filter((k: string) => k === 'released').length, 0, 'never released during the window');
});

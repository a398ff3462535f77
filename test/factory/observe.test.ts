// The factory's operator endpoints on its API port, with a real job server and factory: /metrics
// scraped and parsed after a job ran (values matching the API), behind a token with [api] metrics
// = "token"; /healthz and /readyz (database, job server) without a token while the API still
// needs one; the docs UI served with local assets.
import t from 'tap';
import { waitFor } from '../helpers/mvm-process.js';
import { parsePromText } from '../helpers/prom-text.js';
import { factoryApi, startFactory, startLab } from './fixture.js';

async function get(url: string, token?: string) {
  const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

t.test('factory metrics, health and docs', async (t) => {
  const lab = await startLab(t, {
    testbeds: [
      { name: 'gamma-1', targets: ['bitaxe'] },
      { name: 'supra-1', targets: ['bitaxe'], hardware: '401' },
      { name: 'nano-1', targets: ['avalon'], hardware: 'nano3s' },
    ],
    apiKeys: '[api]\nlisten = "127.0.0.1:0"\nmetrics = "token"',
  });
  const p = await startFactory(lab);
  t.teardown(() => p.stop());
  const api = await factoryApi(p, lab.dbFile);
  const token = api.adminToken;
  await waitFor(
    async () => (await api.call('GET', '/v1/testbeds')).body.every((tb: { health: string }) => tb.health === 'good'),
    'every testbed checked',
  );

  const id = await lab.submit('bitaxe', 'echo hello');
  await lab.waitJob(id, ['completed']);
  await waitFor(
    async () => (await api.call('GET', '/v1/testbeds')).body.every((tb: { state: string }) => tb.state === 'free'),
    'the testbed given back',
  );
  t.equal(
    (await api.call('POST', '/v1/testbeds/nano-1/reservation', { body: { ttl: '1h', reason: 'metrics test' } })).status,
    201,
  );

  t.equal((await get(`${api.url}/metrics`)).status, 401, '/metrics needs a token when configured so');
  t.equal((await get(`${api.url}/v1/testbeds`)).status, 401, 'the API still needs one');
  const scrape = await get(`${api.url}/metrics`, token);
  t.equal(scrape.status, 200);
  const m = parsePromText(scrape.body);

  const testbeds = (await api.call('GET', '/v1/testbeds')).body as Array<{
    name: string;
    state: string;
    health: string;
  }>;
  const byStateHealth = new Map<string, number>();
  for (const tb of testbeds)
    byStateHealth.set(`${tb.state}/${tb.health}`, (byStateHealth.get(`${tb.state}/${tb.health}`) ?? 0) + 1);
  for (const [k, n] of byStateHealth) {
    const [state, health] = k.split('/');
    t.equal(m.value('mvm_factory_testbeds', { state, health }), n, `testbeds ${state}/${health}`);
  }
  t.equal(m.value('mvm_factory_testbeds', { state: 'reserved', health: 'good' }), 1);
  for (const tb of testbeds) t.equal(m.value('mvm_factory_testbed_health', { testbed: tb.name, health: tb.health }), 1);
  t.equal(m.value('mvm_factory_reservations'), (await api.call('GET', '/v1/reservations')).body.length);
  t.equal(m.value('mvm_factory_reservations_made_total'), 1);
  t.equal(m.value('mvm_factory_instances', { state: 'destroyed' }), 1);
  t.equal(m.value('mvm_factory_instances', { state: 'running' }), 0);
  t.equal(m.value('mvm_factory_leases_total'), 1);
  t.equal(m.value('mvm_factory_agents_started_total'), 1);
  t.equal(m.value('mvm_factory_agents_failed_total'), 0);
  const restores = m.all('mvm_factory_restores_total').reduce((n, s) => n + s.value, 0);
  t.equal(restores, 1, 'one restore after the job');
  t.equal(
    m.all('mvm_factory_restore_duration_seconds_count').reduce((n, s) => n + s.value, 0),
    1,
    'its duration observed',
  );
  t.equal(m.value('mvm_factory_health_checks_total', { outcome: 'passed' }), 3, 'a check per testbed');
  t.equal(m.value('mvm_factory_health_check_duration_seconds_count', { outcome: 'passed' }), 3);
  t.ok(m.value('mvm_factory_tick_duration_seconds_count')! > 0, 'passes timed');
  for (const s of m.samples) t.notOk(Object.values(s.labels).includes(id), `${s.name}: no job id label`);

  const health = await get(`${api.url}/healthz`);
  t.equal(health.status, 200);
  const ready = await get(`${api.url}/readyz`);
  t.equal(ready.status, 200);
  t.match(JSON.parse(ready.body), {
    status: 'ready',
    checks: [
      { name: 'database', ok: true },
      { name: 'job server', ok: true },
    ],
  });

  const ui = await get(`${api.url}/docs/`);
  t.equal(ui.status, 200);
  t.match(ui.body, /swagger-ui/);
  t.equal((await get(`${api.url}/docs/static/swagger-ui-bundle.js`)).status, 200, 'assets served locally');
  t.match(JSON.parse((await get(`${api.url}/docs/json`)).body), { paths: { '/v1/testbeds': {} } });

  await lab.srv.stop();
  const down = await waitFor(async () => {
    const r = await get(`${api.url}/readyz`);
    return r.status === 503 ? JSON.parse(r.body) : undefined;
  }, 'not ready without the job server');
  t.match(down, {
    status: 'not ready',
    checks: [
      { name: 'database', ok: true },
      { name: 'job server', ok: false, detail: /unreachable/ },
    ],
  });
  t.equal((await get(`${api.url}/healthz`)).status, 200, 'still alive');
});

// The fleet API against a real `mvm fleet` daemon and real simulators: auth (no token 401, a
// read-only token 403 on changes), config miners read-only, bad bodies and queries answered with
// the field named, modes and pools applied and read back, drift recorded, the event stream
// delivering a reading, the dashboard, and every response checked against /openapi.json.
import t from 'tap';
import { startAxeosSim, startCgminerSim, type AxeosSim, type CgminerSim } from '../../sim/index.js';
import { LabApiConformance, type OpenApiDoc } from '../helpers/lab-api-conformance.js';
import { waitFor } from '../helpers/mvm-process.js';
import { startFleet, type FleetDaemon } from './daemon-helpers.js';

let fleet: FleetDaemon;
let conf: LabApiConformance;
let gamma: AxeosSim;
let spare: AxeosSim;
let nano: CgminerSim;

async function call(method: string, path: string, opts: { token?: string | null; body?: unknown } = {}) {
  const r = await fleet.call(method, path, opts);
  const problem = conf.check(method, path, r.status, r.body);
  if (problem) throw new Error(`response does not match the OpenAPI document: ${problem}`);
  return r;
}

t.before(async () => {
  gamma = await startAxeosSim({ board: '601', seed: 'api-gamma' });
  spare = await startAxeosSim({ board: '401', seed: 'api-spare' });
  nano = await startCgminerSim({ model: 'nano3s' });
  t.teardown(() => Promise.all([gamma.close(), spare.close(), nano.close()]).then(() => undefined));
  fleet = await startFleet(
    t,
    [
      '[fleet]',
      'poll_interval = "300ms"',
      'udp_port = 0',
      'udp_address = "127.0.0.1"',
      '',
      '[miner.gamma]',
      'driver = "axeos"',
      `address = "${gamma.url}"`,
      'tags = ["garage"]',
      '',
      '[miner.nano]',
      'driver = "cgminer"',
      `address = "${nano.address}"`,
      'options = { web_password = "s3cret" }',
      '',
    ].join('\n'),
  );
  conf = new LabApiConformance((await (await fetch(`${fleet.url}/openapi.json`)).json()) as OpenApiDoc);
  await waitFor(
    async () => (await call('GET', '/api/miners/')).body.every((m: { status: string }) => m.status === 'online'),
    'every miner online',
    30_000,
  );
});

t.test('auth: no token 401 everywhere, a read-only token reads but cannot change', async (t) => {
  const doc = (await (await fetch(`${fleet.url}/openapi.json`)).json()) as OpenApiDoc;
  let n = 0;
  for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    if (path === '/healthz') continue;
    for (const method of Object.keys(methods)) {
      const concrete = path.replace('{id}', 'gamma').replace('{tag}', 'garage').replace('{name}', 'x');
      const r = await call(method.toUpperCase(), concrete, {
        token: null,
        body: method === 'get' || method === 'delete' ? undefined : {},
      });
      t.equal(r.status, 401, `${method} ${path} without a token`);
      t.equal(
        (
          await call(method.toUpperCase(), concrete, {
            token: 'nope',
            body: method === 'get' || method === 'delete' ? undefined : {},
          })
        ).status,
        401,
      );
      n++;
    }
  }
  t.ok(n >= 30, `${n} operations`);
  t.equal((await call('GET', '/healthz', { token: null })).status, 200, '/healthz needs no token');
  const made = await call('POST', '/api/tokens', { body: { name: 'viewer', role: 'read' } });
  t.equal(made.status, 201);
  const viewer = made.body.token as string;
  t.same((await call('GET', '/api/whoami', { token: viewer })).body, { name: 'viewer', role: 'read' });
  t.equal((await call('GET', '/api/miners/', { token: viewer })).status, 200, 'a read-only token reads');
  for (const [method, path, body] of [
    ['POST', '/api/miners/gamma/mode', { mode: 'eco' }],
    ['POST', '/api/miners/gamma/restart', {}],
    ['POST', '/api/pools/', { bad: 1 }],
    ['DELETE', '/api/miners/gamma', undefined],
    ['GET', '/api/tokens', undefined],
  ] as const) {
    const r = await call(method, path, { token: viewer, body });
    t.equal(r.status, 403, `${method} ${path} with a read-only token`);
    t.match(r.body.message, /viewer has a read-only token/);
  }
  const ev = (await call('GET', '/api/dashboard/events/recent?miner=gamma&kind=mode')).body;
  t.notOk(
    ev.some((e: { actor: string }) => e.actor === 'viewer'),
    'nothing was done as the viewer',
  );
});

t.test('miners: config ones read-only (409), API ones added, edited, removed; secrets hidden', async (t) => {
  const list = (await call('GET', '/api/miners/')).body;
  t.same(list.map((m: { id: string }) => m.id).sort(), ['gamma', 'nano']);
  const nanoView = list.find((m: { id: string }) => m.id === 'nano');
  t.equal(nanoView.options.web_password, '[redacted]', 'driver secrets are not shown');
  t.match(nanoView, { source: 'config', readOnly: true, status: 'online', last: { hashrateGhs: Number } });
  t.equal(nanoView.last.raw, undefined, 'no raw device reply');
  const edit = await call('PUT', '/api/miners/gamma', { body: { location: 'shed' } });
  t.equal(edit.status, 409);
  t.match(
    edit.body.message,
    /miner gamma is defined in the fleet config \(.*fleet\.toml\): it cannot be edited through the API/,
  );
  t.match(edit.body.hint, /SIGHUP/);
  t.equal((await call('DELETE', '/api/miners/nano')).status, 409);

  const added = await call('POST', '/api/miners/', {
    body: { id: 'spare', driver: 'axeos', address: spare.url, tags: ['bench'], expectedHashrateGhs: 700 },
  });
  t.equal(added.status, 201);
  t.match(added.body, { id: 'spare', source: 'api', readOnly: false, tags: ['bench'] });
  t.equal(
    (await call('POST', '/api/miners/', { body: { id: 'spare', driver: 'axeos', address: spare.url } })).status,
    409,
    'the id exists',
  );
  await waitFor(
    async () => (await call('GET', '/api/miners/spare')).body.status === 'online',
    'the added miner is read',
    30_000,
  );
  const tel = await call('GET', '/api/miners/spare/telemetry?refresh=true');
  t.match(tel.body, {
    miner: 'spare',
    status: 'online',
    telemetry: { online: true, hashrateGhs: Number, driver: 'axeos' },
  });
  t.match((await call('PUT', '/api/miners/spare', { body: { location: 'bench 2' } })).body, { location: 'bench 2' });
  t.same((await call('DELETE', '/api/miners/spare')).body, { deleted: 'spare' });
  t.equal((await call('GET', '/api/miners/spare')).status, 404);
});

t.test('bad bodies and queries: a 4xx naming the field', async (t) => {
  const cases: Array<[string, string, unknown, number, RegExp, string?]> = [
    ['POST', '/api/miners/', { id: 'x', driver: 'axeos' }, 400, /body\.address: is required/, 'body.address'],
    [
      'POST',
      '/api/miners/',
      { id: 'x', driver: 'asic', address: 'h' },
      400,
      /body\.driver: must be one of "axeos", "cgminer", "nmminer"/,
      'body.driver',
    ],
    [
      'POST',
      '/api/miners/',
      { id: 'bad id!', driver: 'axeos', address: 'http://h' },
      400,
      /body\.id: must match pattern/,
      'body.id',
    ],
    [
      'POST',
      '/api/miners/',
      { id: 'x', driver: 'cgminer', address: 'no-port-here' },
      400,
      /address "no-port-here" is not host:port/,
      'body.address',
    ],
    [
      'POST',
      '/api/miners/',
      { id: 'x', driver: 'axeos', address: 'http://h', colour: 'red' },
      400,
      /body\.colour: unknown field/,
      'body.colour',
    ],
    [
      'POST',
      '/api/miners/gamma/mode',
      { mode: 'ludicrous' },
      400,
      /mode "ludicrous" is not a mode of gamma \(axeos\): use eco, standard, turbo, oc/,
    ],
    ['POST', '/api/miners/gamma/mode', {}, 400, /body\.mode: is required/],
    ['POST', '/api/miners/gamma/mode', '{not json', 400, /not valid JSON/],
    [
      'POST',
      '/api/miners/gamma/settings',
      { frequency: 9000 },
      400,
      /frequency 9000 MHz is outside the board's limits \(400–625 MHz, Bitaxe Gamma\)/,
    ],
    ['POST', '/api/miners/gamma/restart', { timeout: 'soon' }, 400, /timeout "soon" is not a duration/, 'body.timeout'],
    ['POST', '/api/pools/', { name: 'p', url: 'http://x', port: 3333, user: 'u' }, 400, /pool url/],
    [
      'POST',
      '/api/pools/',
      { name: 'p', url: 'stratum+tcp://x', port: 70000, user: 'u' },
      400,
      /body\.port: must be <= 65535/,
    ],
    ['PUT', '/api/miners/gamma/pools', { pools: ['nope'] }, 400, /no pool "nope" in the catalogue/, 'body.pools'],
    [
      'GET',
      '/api/miners/gamma/history?from=yesterday-ish',
      undefined,
      400,
      /from "yesterday-ish" is not a time/,
      'query.from',
    ],
    ['GET', '/api/miners/gamma/history?from=1h&to=2h', undefined, 400, /from .* must be before to/],
    ['GET', '/api/miners/gamma/history?step=10ms', undefined, 400, /step "10ms"/, 'query.step'],
    ['GET', '/api/miners/?colour=red', undefined, 400, /query\.colour: unknown field/],
    ['GET', '/api/miners/nope', undefined, 404, /no miner "nope"/],
    ['POST', '/api/miners/nano/settings', { frequency: 500 }, 400, /frequency cannot be set on this device/],
  ];
  for (const [method, path, body, status, msg, field] of cases) {
    const r = await call(method, path, { body });
    t.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)} → ${status}`);
    t.match(r.body.message, msg);
    if (field) t.equal(r.body.field, field);
  }
});

t.test(
  'modes: set and read back on AxeOS and on an Avalon (low|med|high, eco/standard/turbo as aliases)',
  async (t) => {
    t.match((await call('GET', '/api/miners/nano/modes')).body, {
      modes: ['low', 'med', 'high'],
      aliases: { eco: 'low', turbo: 'high' },
    });
    const eco = await call('POST', '/api/miners/gamma/mode', { body: { mode: 'eco' } });
    t.equal(eco.status, 200);
    t.match(eco.body, {
      miner: 'gamma',
      action: 'mode eco',
      drift: false,
      readBack: { mode: { readable: true, same: true } },
      event: { kind: 'mode', actor: 'admin' },
    });
    t.equal(gamma.device.settings.frequency, 400, 'the device runs the eco frequency');
    const high = await call('POST', '/api/miners/nano/mode', { body: { mode: 'turbo' } });
    t.equal(high.status, 200);
    t.match(high.body, { action: 'mode high', readBack: { mode: { readable: true, same: true, current: 'high' } } });
    t.match((await call('GET', '/api/miners/nano')).body.desired, { mode: 'high', updatedBy: 'admin' });
    t.equal((await call('GET', '/api/miners/nano/modes')).body.desired, 'high');
  },
);

t.test('pools: catalogue without passwords, assigned, applied and read back; drift recorded', async (t) => {
  const a = await call('POST', '/api/pools/', {
    body: {
      id: 'ocean',
      name: 'Ocean',
      url: 'stratum+tcp://mine.ocean.xyz',
      port: 3334,
      user: 'bc1qfleet.gamma',
      password: 'hunter2',
    },
  });
  t.equal(a.status, 201);
  t.same(a.body, {
    id: 'ocean',
    name: 'Ocean',
    url: 'stratum+tcp://mine.ocean.xyz',
    port: 3334,
    user: 'bc1qfleet.gamma',
    tls: false,
    passwordSet: true,
  });
  await call('POST', '/api/pools/', {
    body: { id: 'backup', name: 'Backup', url: 'stratum+tcp://backup.example', port: 3333, user: 'bc1qfleet.gamma' },
  });
  t.notOk(JSON.stringify((await call('GET', '/api/pools/')).body).includes('hunter2'), 'no password in the listing');
  const applied = await call('PUT', '/api/miners/gamma/pools', { body: { pools: ['ocean', 'backup'] } });
  t.equal(applied.status, 200);
  t.match(applied.body, {
    action: 'pools apply',
    needsRestart: true,
    drift: false,
    readBack: { pools: { readable: true, same: true } },
  });
  t.equal(gamma.device.settings.pools[0]?.stratumURL, 'mine.ocean.xyz', 'the device holds the pool');
  t.match((await call('GET', '/api/miners/gamma/pools')).body, {
    from: 'miner',
    desired: ['ocean', 'backup'],
    pools: [{ id: 'ocean' }, { id: 'backup' }],
  });
  t.equal((await call('DELETE', '/api/pools/ocean')).status, 409, 'a pool in use cannot be removed');
  t.notOk(
    JSON.stringify((await call('GET', '/api/dashboard/events/recent?limit=200')).body).includes('hunter2'),
    'no password in the events',
  );

  // Someone changes the device behind the fleet's back: verify finds the drift.
  const res = await fetch(`${gamma.url}/api/system`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ frequency: 600, coreVoltage: 1200 }),
  });
  t.equal(res.status, 200);
  const v = await call('POST', '/api/miners/gamma/verify', { body: {} });
  t.equal(v.status, 200);
  t.match(v.body, { drift: true, readBack: { mode: { same: false, current: /600 MHz/ }, pools: { same: true } } });
  const drift = (await call('GET', '/api/dashboard/events/recent?miner=gamma&kind=drift')).body;
  t.match(drift[0], {
    kind: 'drift',
    level: 'warn',
    message: /gamma drifted from what the fleet wants \(mode: wanted eco, device has 600 MHz/,
  });

  const sw = await call('POST', '/api/miners/gamma/pools/switch', { body: { index: 1 } });
  t.equal(sw.status, 200);
  t.match(sw.body.message, /switched to pool 1/);
  const tagged = await call('PUT', '/api/tags/garage/pools', { body: { pools: ['backup'], apply: true } });
  t.equal(tagged.status, 200);
  t.same(
    tagged.body.applied.map((a: { miner: string; ok: boolean }) => [a.miner, a.ok]),
    [['gamma', true]],
    'applied to the tagged miner',
  );
  t.match((await call('GET', '/api/miners/gamma/pools')).body, { from: 'miner' }, "the miner's own list still wins");
  const lotto = await call('POST', '/api/miners/nano/pause', { body: {} });
  t.equal(lotto.status, 200, 'pause on the Avalon');
});

t.test('event stream: a reading arrives; dashboard stats add the miners up', async (t) => {
  const ctl = new AbortController();
  const res = await fetch(`${fleet.url}/api/events/stream?miner=gamma`, {
    headers: { authorization: `Bearer ${fleet.adminToken}` },
    signal: ctl.signal,
  });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/event-stream/);
  const reader = res.body!.getReader();
  let text = '';
  const deadline = Date.now() + 30_000;
  while (!/event: reading\ndata: .*"miner":"gamma"/.test(text) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  ctl.abort();
  const m = /event: reading\ndata: (.*)\n/.exec(text);
  t.ok(m, 'a reading came');
  t.match(JSON.parse(m![1]), { miner: 'gamma', status: 'online', telemetry: { hashrateGhs: Number } });
  t.notOk(/"miner":"nano"/.test(text), 'the filter holds');
  const s = (await call('GET', '/api/dashboard/stats')).body;
  t.match(s, { miners: (await call('GET', '/api/miners/')).body.length, online: Number, hashrateGhs: Number });
  t.ok(s.hashrateGhs > 0);
});

t.test('restart and wait; prioritise; what the firmware cannot do is said so', async (t) => {
  const r = await call('POST', '/api/miners/gamma/restart', { body: { timeout: '60s' } });
  t.equal(r.status, 200, JSON.stringify(r.body));
  t.match(r.body, {
    action: 'restart',
    message: /restarted and answering again after \d+\.\d s/,
    event: { kind: 'restart', actor: 'admin' },
  });
  const set = await call('POST', '/api/miners/gamma/settings', { body: { fan: 80, frequency: 500 } });
  t.equal(set.status, 200, JSON.stringify(set.body));
  t.match(set.body, { action: 'frequency 500, fan 80', event: { kind: 'setting', data: { fan: 80, frequency: 500 } } });
  t.equal(gamma.device.settings.frequency, 500);
  t.equal(
    (await call('POST', '/api/miners/gamma/settings', { body: { fan: 5 } })).body.message.includes(
      "fan 5 % is outside the board's limits (20–100 %",
    ),
    true,
    'a fan too slow is refused',
  );
  const pr = await call('POST', '/api/miners/gamma/pools/prioritise', { body: { pool: 'backup' } });
  t.equal(pr.status, 200);
  t.match(pr.body.message, /pool backup \(#1\) now first/);
  t.equal((await call('POST', '/api/miners/gamma/pools/prioritise', { body: { pool: 'elsewhere' } })).status, 400);

  const old = await startAxeosSim({ board: '601', firmware: 'v2.9.0', seed: 'api-old' });
  t.teardown(() => old.close());
  t.equal((await call('POST', '/api/miners/', { body: { id: 'old', driver: 'axeos', address: old.url } })).status, 201);
  const p = await call('POST', '/api/miners/old/pause', { body: {} });
  t.equal(p.status, 422);
  t.match(p.body, {
    error_code: 'Unsupported',
    message: /unsupported on this firmware: pause: firmware v2\.9\.0 has no pause\/resume/,
  });
  const refused = (await call('GET', '/api/dashboard/events/recent?miner=old&kind=refused')).body;
  t.match(refused[0], {
    level: 'warn',
    actor: 'admin',
    message: /pause on old refused: .*unsupported on this firmware/,
  });
  t.equal((await call('DELETE', '/api/miners/old')).status, 200);
});

t.test('history: the stored readings, at raw resolution for a short range', async (t) => {
  await waitFor(
    async () => (await call('GET', '/api/miners/gamma/history?from=10m')).body.points.length >= 2,
    'two samples',
    30_000,
  );
  const h = (await call('GET', '/api/miners/gamma/history?from=10m')).body;
  t.match(h, { minerId: 'gamma', resolution: 'raw' });
  t.match(h.points[0], { t: Number, n: 1, hashrateGhs: { mean: Number } });
});

t.test('the CLI: miners table with scaled units, show, mode, --json, errors', async (t) => {
  // the restart and settings above may leave gamma between readings: the table is what is tested here
  await waitFor(
    async () => (await call('GET', '/api/miners/gamma')).body.status === 'online',
    'gamma read again',
    30_000,
  );
  const miners = await fleet.cli(['miners']);
  t.equal(miners.code, 0, miners.stderr);
  t.match(miners.stdout, /^MINER\s+DRIVER\s+STATUS\s+HASHRATE/);
  t.match(miners.stdout, /gamma\s+axeos\s+online\s+\d+(\.\d+)? (TH|GH)\/s/);
  t.match(miners.stdout, /nano\s+cgminer\s+online/);
  const json = await fleet.cli(['miners', '--json']);
  t.same(
    JSON.parse(json.stdout)
      .map((m: { id: string }) => m.id)
      .sort(),
    ['gamma', 'nano'],
  );
  const show = await fleet.cli(['show', 'gamma']);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /hashrate\s+\d.* (TH|GH)\/s/);
  t.match(show.stdout, /recent events:/);
  const modes = await fleet.cli(['mode', 'nano']);
  t.match(modes.stdout, /nano: low, med, high \(also eco=low, standard=med, turbo=high, medium=med\); wanted: high/);
  const set = await fleet.cli(['mode', 'gamma', 'standard']);
  t.equal(set.code, 0, set.stderr);
  t.match(set.stdout, /mode standard/);
  t.match(set.stdout, /read back mode: as wanted/);
  const bad = await fleet.cli(['mode', 'gamma', 'warp']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /mvm: error: cannot set the mode of gamma: mode "warp" is not a mode of gamma/);
  const ev = await fleet.cli(['events', '--miner', 'gamma', '--limit', '5']);
  t.match(ev.stdout, /mode\s+gamma\s+gamma: mode standard .*\(by admin\)/);
  const pools = await fleet.cli(['pools', 'list']);
  t.match(pools.stdout, /ocean\s+Ocean\s+stratum\+tcp:\/\/mine\.ocean\.xyz:3334\s+bc1qfleet\.gamma\s+no\s+set/);
  const hist = await fleet.cli(['history', 'gamma', '--from', '10m']);
  t.equal(hist.code, 0, hist.stderr);
  t.match(hist.stdout, /^gamma: \d+ point\(s\) at raw resolution/);
  t.match(hist.stdout, /TIME \(UTC\)\s+N\s+HASHRATE \(mean\)/);
  const denied = await fleet.cli(['miners'], 'wrong-token');
  t.equal(denied.code, 4);
  t.match(denied.stderr, /refused the token from MVM_FLEET_TOKEN/);
});

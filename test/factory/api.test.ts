// The factory's HTTP API against a real factory process and a real job server: auth on every
// endpoint, search, reservations (owner-checked, TTL, forced release), maintenance and
// decommissioning, the shared lock with jobs, history — every response checked against the
// OpenAPI document the factory serves.
import t from 'tap';
import { LabApiConformance, type OpenApiDoc } from '../helpers/lab-api-conformance.js';
import { waitFor } from '../helpers/mvm-process.js';
import { factoryApi, heldScript, startFactory, startLab, testbedOfJob, type Lab, type LabApi } from './fixture.js';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

let lab: Lab;
let api: LabApi;
let conf: LabApiConformance;
const tokens: Record<string, string> = {};

/** A call whose response is checked against the document. */
async function call(method: string, path: string, opts: { token?: string | null; body?: unknown; as?: string } = {}) {
  const r = await api.call(method, path, { token: opts.as ? tokens[opts.as] : opts.token, body: opts.body });
  const problem = conf.check(method, path, r.status, r.body);
  if (problem) throw new Error(`response does not match the OpenAPI document: ${problem}`);
  return r;
}

t.before(async () => {
  lab = await startLab(t, {
    testbeds: [
      { name: 'gamma-1', targets: ['bitaxe'], attributes: ['fan:stock'] },
      { name: 'supra-1', targets: ['bitaxe'], hardware: '401' },
      { name: 'nano-1', targets: ['avalon'], hardware: 'nano3s' },
    ],
  });
  const p = await startFactory(lab);
  t.teardown(() => p.stop());
  api = await factoryApi(p, lab.dbFile);
  const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApiDoc;
  conf = new LabApiConformance(doc);
  for (const name of ['alice', 'bob']) {
    const r = await call('POST', '/v1/users', { body: { name } });
    t.equal(r.status, 201);
    tokens[name] = r.body.token;
  }
  // Health checks are off in this lab: every testbed passes its first check at once.
  await waitFor(
    async () =>
      (await call('GET', '/v1/testbeds', { as: 'alice' })).body.every((tb: { health: string }) => tb.health === 'good'),
    'every testbed checked',
  );
});

t.test('every endpoint refuses a missing or wrong token; admin endpoints refuse users', async (t) => {
  const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { summary: string }>>;
  };
  let n = 0;
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      const concrete = path.replace('{name}', 'gamma-1');
      const body = method === 'get' || method === 'delete' ? undefined : {};
      const none = await call(method.toUpperCase(), concrete, { token: null, body });
      t.equal(none.status, 401, `${method} ${path} without a token`);
      t.match(none.body.message, /authentication required/);
      const wrong = await call(method.toUpperCase(), concrete, { token: 'not-a-token', body });
      t.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
      n++;
    }
  }
  t.ok(n >= 15, `${n} operations`);
  for (const [method, path] of [
    ['POST', '/v1/testbeds/gamma-1/maintenance'],
    ['POST', '/v1/testbeds/gamma-1/decommission'],
    ['POST', '/v1/users'],
    ['GET', '/v1/users'],
  ] as const) {
    const r = await call(method, path, {
      as: 'alice',
      body: method === 'POST' ? (path === '/v1/users' ? { name: 'x' } : {}) : undefined,
    });
    t.equal(r.status, 403, `${method} ${path} as a user`);
    t.match(r.body.message, /alice is not an administrator/);
  }
  t.same((await call('GET', '/v1/whoami', { as: 'bob' })).body, { name: 'bob', admin: false });
  t.same((await call('GET', '/v1/whoami')).body, { name: 'admin', admin: true });
  const dup = await call('POST', '/v1/users', { body: { name: 'alice' } });
  t.equal(dup.status, 409);
  t.match(dup.body.message, /already exists/);
});

t.test('search testbeds and devices', async (t) => {
  const names = async (q: string) =>
    (await call('GET', `/v1/testbeds${q}`, { as: 'alice' })).body.map((x: { name: string }) => x.name).sort();
  t.same(await names(''), ['gamma-1', 'nano-1', 'supra-1']);
  t.same(await names('?hardware=401'), ['supra-1']);
  t.same(await names('?attribute=fan:stock'), ['gamma-1']);
  t.same(await names('?target=bitaxe'), ['gamma-1', 'supra-1']);
  t.same(await names('?hardware=601&attribute=fan:stock&free=true'), ['gamma-1']);
  t.same(await names('?health=bad'), []);
  const devices = (await call('GET', '/v1/devices?driver=axeos&hardware=nano3s', { as: 'bob' })).body;
  t.match(devices, [{ testbed: 'nano-1', name: 'miner', hardware: 'nano3s', driver: 'axeos' }]);
  const one = (await call('GET', '/v1/testbeds/gamma-1', { as: 'bob' })).body;
  t.match(one, {
    name: 'gamma-1',
    state: 'free',
    free: true,
    health: 'good',
    targets: ['bitaxe'],
    agent: { mode: 'local' },
    lock: null,
    instance: null,
  });
  const bad = await call('GET', '/v1/testbeds?colour=red', { as: 'bob' });
  t.equal(bad.status, 400, 'an unknown filter is refused, not ignored');
  t.equal((await call('GET', '/v1/testbeds/no-such', { as: 'bob' })).status, 404);
});

t.test('reservations: owner-checked, renewed, forced, and their bad inputs', async (t) => {
  const r = await call('POST', '/v1/testbeds/gamma-1/reservation', {
    as: 'alice',
    body: { ttl: '1h', reason: 'debugging the fan' },
  });
  t.equal(r.status, 201);
  t.match(r.body, { testbed: 'gamma-1', owner: 'alice', reason: 'debugging the fan' });
  const until = Date.parse(r.body.expires_at);
  t.ok(Math.abs(until - Date.now() - 3_600_000) < 60_000, 'expires in an hour');
  const taken = await call('POST', '/v1/testbeds/gamma-1/reservation', { as: 'bob', body: {} });
  t.equal(taken.status, 409);
  t.match(taken.body.message, /gamma-1 is reserved by alice until .* \("debugging the fan"\)/);
  t.match(
    (await call('POST', '/v1/testbeds/gamma-1/reservation', { as: 'alice', body: {} })).body.message,
    /already hold/,
  );
  const tb = (await call('GET', '/v1/testbeds/gamma-1', { as: 'bob' })).body;
  t.match(tb, { state: 'reserved', free: false, lock: { kind: 'reservation', owner: 'alice' } });
  t.equal(
    (await call('PUT', '/v1/testbeds/gamma-1/reservation', { as: 'bob', body: { ttl: '2h' } })).status,
    403,
    'bob cannot renew it',
  );
  const steal = await call('DELETE', '/v1/testbeds/gamma-1/reservation', { as: 'bob' });
  t.equal(steal.status, 403);
  t.match(steal.body.message, /reserved by alice, not by bob/);
  t.equal(
    (await call('DELETE', '/v1/testbeds/gamma-1/reservation?force=true', { as: 'bob' })).status,
    403,
    'force is for admins',
  );
  const renewed = await call('PUT', '/v1/testbeds/gamma-1/reservation', { as: 'alice', body: { ttl: '2h' } });
  t.equal(renewed.status, 200);
  t.ok(Date.parse(renewed.body.expires_at) > until + 3_000_000, 'renewed to two hours');
  const forced = await call('DELETE', '/v1/testbeds/gamma-1/reservation?force=true');
  t.equal(forced.status, 200);
  t.equal(forced.body.owner, 'alice');
  const again = await call('DELETE', '/v1/testbeds/gamma-1/reservation', { as: 'alice' });
  t.equal(again.status, 404);
  t.match(again.body.message, /gamma-1 is not reserved/);
  const hist = (await call('GET', '/v1/testbeds/gamma-1/history?limit=10', { as: 'alice' })).body;
  t.match(hist.events.map((e: { kind: string }) => e.kind).slice(0, 3), ['released', 'renewed', 'reserved']);
  t.match(hist.events[0].message, /admin released alice's reservation \(forced\)/);

  // bad inputs
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['/v1/testbeds/nope/reservation', {}, 404, /no testbed named "nope"/],
    ['/v1/testbeds/supra-1/reservation', { ttl: 'soon' }, 400, /ttl "soon" is not a duration/],
    ['/v1/testbeds/supra-1/reservation', { ttl: '30d' }, 400, /longer than this factory allows \(7d|168h/],
    ['/v1/testbeds/supra-1/reservation', { ttl: '0s' }, 400, /too short/],
    ['/v1/testbeds/supra-1/reservation', { ttl: '1h', colour: 'red' }, 400, /must NOT have additional properties/],
    ['/v1/testbeds/supra-1/reservation', { owner: 'bob' }, 403, /only an admin can reserve a testbed for someone else/],
    ['/v1/testbeds/supra-1/reservation', '{not json', 400, /JSON/],
  ];
  for (const [path, body, status, msg] of cases) {
    const res = await call('POST', path, { as: 'alice', body });
    t.equal(res.status, status, `${JSON.stringify(body)} → ${status}`);
    t.match(res.body.message, msg);
  }
  const onBehalf = await call('POST', '/v1/testbeds/supra-1/reservation', { body: { owner: 'bob', ttl: 60 } });
  t.equal(onBehalf.status, 201, 'an admin reserves for bob');
  t.equal((await call('DELETE', '/v1/testbeds/supra-1/reservation', { as: 'bob' })).status, 200, 'and bob releases it');
});

t.test(
  'jobs and reservations share the lock: reserved testbeds get no job, busy ones cannot be reserved',
  async (t) => {
    for (const tb of ['gamma-1', 'supra-1'])
      t.equal(
        (await call('POST', `/v1/testbeds/${tb}/reservation`, { as: 'alice', body: { ttl: '10m' } })).status,
        201,
      );
    const gate = join(lab.dir, 'gate-shared-lock');
    const job = await lab.submit('bitaxe', heldScript(gate));
    const why = (await call('POST', '/v1/explain', { as: 'bob', body: { target: 'bitaxe' } })).body;
    t.match(why, { target: 'bitaxe', served: true, summary: /2 testbeds serve it; none is free/ });
    t.match(
      why.testbeds.find((x: { name: string }) => x.name === 'gamma-1'),
      { serves: true, free: false, reasons: [{ kind: 'reserved', message: /reserved by alice/ }] },
    );
    t.match(
      why.testbeds.find((x: { name: string }) => x.name === 'nano-1'),
      { serves: false, reasons: [{ kind: 'not-serving', message: /serves avalon/ }] },
    );
    // Several passes of the factory (poll_interval 500 ms) and the job is still queued.
    const seen = await waitFor(
      async () =>
        (await call('GET', '/v1/testbeds/gamma-1/history?limit=50', { as: 'bob' })).body.events.filter(
          (e: { kind: string }) => e.kind === 'reserved',
        ).length >= 2
          ? true
          : undefined,
      'history',
    );
    t.ok(seen);
    t.equal((await lab.job(job)).state, 'queued', 'the job waits while both testbeds are reserved');
    t.equal((await call('DELETE', '/v1/testbeds/gamma-1/reservation', { as: 'alice' })).status, 200);
    await lab.waitJob(job, ['running']);
    t.equal(await waitFor(() => testbedOfJob(lab, job), 'the job to say where it runs'), 'gamma-1');
    const busy = await call('POST', '/v1/testbeds/gamma-1/reservation', { as: 'bob', body: {} });
    t.equal(busy.status, 409);
    t.match(busy.body.message, new RegExp(`gamma-1 is running job ${job}`));
    t.match((await call('GET', '/v1/testbeds/gamma-1', { as: 'bob' })).body, {
      state: 'busy',
      instance: { job, state: 'running' },
      lock: { kind: 'job' },
    });
    writeFileSync(gate, '');
    await lab.waitJob(job, ['completed']);
    await waitFor(
      async () => (await call('GET', '/v1/testbeds/gamma-1', { as: 'bob' })).body.free,
      'gamma-1 free again',
    );
    t.equal((await call('DELETE', '/v1/testbeds/supra-1/reservation', { as: 'alice' })).status, 200);
  },
);

t.test('a reservation whose TTL lapses is released and logged', async (t) => {
  t.equal(
    (await call('POST', '/v1/testbeds/nano-1/reservation', { as: 'bob', body: { ttl: '1s', reason: 'quick look' } }))
      .status,
    201,
  );
  await waitFor(
    async () => (await call('GET', '/v1/reservations', { as: 'bob' })).body.length === 0,
    'the reservation to lapse',
    15_000,
  );
  const ev = (await call('GET', '/v1/testbeds/nano-1/history?limit=5', { as: 'bob' })).body.events;
  t.match(ev[0], { kind: 'reservation-expired', message: /bob's reservation lapsed/ });
  t.match((await call('GET', '/v1/testbeds/nano-1', { as: 'bob' })).body, { free: true });
});

t.test('maintenance, decommission, recommission and a requested check', async (t) => {
  const on = await call('POST', '/v1/testbeds/nano-1/maintenance', { body: { reason: 'new fan' } });
  t.equal(on.status, 200);
  t.match(on.body, {
    health: 'maintenance',
    state: 'maintenance',
    free: false,
    health_reason: 'maintenance by admin: new fan',
  });
  const off = await call('DELETE', '/v1/testbeds/nano-1/maintenance');
  t.match(off.body, { health: /unknown|checking|good/ });
  await waitFor(
    async () => (await call('GET', '/v1/testbeds/nano-1')).body.health === 'good',
    'checked after maintenance',
  );
  t.equal((await call('DELETE', '/v1/testbeds/nano-1/maintenance')).status, 409, 'not in maintenance');
  const gone = await call('POST', '/v1/testbeds/nano-1/decommission', { body: { reason: 'broken board' } });
  t.match(gone.body, { health: 'retired', state: 'retired' });
  const res = await call('POST', '/v1/testbeds/nano-1/reservation', { as: 'alice', body: {} });
  t.equal(res.status, 409);
  t.match(res.body.message, /decommissioned/);
  t.equal(
    (await call('POST', '/v1/testbeds/nano-1/check', { as: 'alice', body: {} })).status,
    409,
    'a decommissioned testbed is not checked',
  );
  t.equal((await call('POST', '/v1/testbeds/nano-1/recommission')).status, 200);
  await waitFor(
    async () => (await call('GET', '/v1/testbeds/nano-1')).body.health === 'good',
    'checked after recommissioning',
  );
  const chk = await call('POST', '/v1/testbeds/nano-1/check', { as: 'alice', body: { reason: 'looked odd' } });
  t.equal(chk.status, 202);
  await waitFor(async () => (await call('GET', '/v1/testbeds/nano-1')).body.health === 'good', 'the requested check');
  const kinds = (await call('GET', '/v1/testbeds/nano-1/history?limit=30')).body.events.map(
    (e: { kind: string }) => e.kind,
  );
  for (const k of [
    'maintenance-on',
    'maintenance-off',
    'decommissioned',
    'recommissioned',
    'check-requested',
    'check-passed',
  ])
    t.ok(kinds.includes(k), `journal has ${k}`);
});

t.test('every response matched the OpenAPI document', async (t) => {
  t.ok(conf.checked > 100, `${conf.checked} responses checked`);
  t.same(conf.problems, []);
});

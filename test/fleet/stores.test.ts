// The fleet's stores on a real SQLite file: miners (API ones editable, config ones read-only, the
// config synced in), pools (passwords masked everywhere but secret()), assignments, desired state,
// events and their subscribers, dashboard stats.
import t from 'tap';
import { computeFleetStats, PASSWORD_MASK } from '../../fleet/store/index.js';
import type { FleetEvent, MinerDefinition } from '../../fleet/types.js';
import { fleetDb } from './helpers.js';

const cfg = (id: string, address: string, extra: Partial<MinerDefinition> = {}): MinerDefinition => ({
  id,
  driver: 'axeos',
  address,
  options: {},
  tags: [],
  source: 'config',
  ...extra,
});

t.test('syncConfigMiners adds, changes and removes config miners and leaves API ones alone', async (t) => {
  const { stores } = fleetDb(t);
  const seen: FleetEvent[] = [];
  stores.events.subscribe((e) => seen.push(e));
  t.same(stores.miners.syncConfigMiners([cfg('a', 'http://10.0.0.1'), cfg('b', 'http://10.0.0.2')]), {
    added: ['a', 'b'],
    changed: [],
    removed: [],
  });
  stores.miners.add(
    { id: 'mine', driver: 'cgminer', address: '10.0.0.9:4028', options: {}, tags: ['garage'] },
    'token:alice',
  );
  t.same(
    stores.miners.syncConfigMiners([
      cfg('a', 'http://10.0.0.1'),
      cfg('b', 'http://10.0.0.3', { tags: ['x'] }),
      cfg('c', 'http://10.0.0.4'),
    ]),
    { added: ['c'], changed: ['b'], removed: [] },
  );
  t.same(stores.miners.syncConfigMiners([cfg('c', 'http://10.0.0.4')]), {
    added: [],
    changed: [],
    removed: ['a', 'b'],
  });
  t.same(
    stores.miners.list().map((m) => [m.id, m.source]),
    [
      ['c', 'config'],
      ['mine', 'api'],
    ],
  );
  t.same(stores.miners.get('c')!.status, 'unknown');
  t.ok(seen.some((e) => e.kind === 'miner' && e.actor === 'config' && /b changed/.test(e.message)));
  t.ok(seen.some((e) => e.kind === 'miner' && e.actor === 'token:alice' && /mine added/.test(e.message)));
  t.ok(
    seen.every((e) => e.id > 0),
    'stored before they are published',
  );
});

t.test('API miners are edited and removed; config miners are read-only; bad input is named', async (t) => {
  const { stores } = fleetDb(t);
  stores.miners.syncConfigMiners([cfg('cfg', 'http://10.0.0.1')]);
  const m = stores.miners.add({ id: 'x', driver: 'axeos', address: 'http://10.0.0.5', options: {}, tags: [] }, 'alice');
  t.equal(m.source, 'api');
  t.throws(
    () => stores.miners.add({ id: 'x', driver: 'axeos', address: 'http://10.0.0.6', options: {}, tags: [] }, 'alice'),
    { code: 'CONFLICT' },
  );
  t.throws(
    () => stores.miners.add({ id: 'cfg', driver: 'axeos', address: 'http://10.0.0.6', options: {}, tags: [] }, 'alice'),
    { code: 'CONFLICT', message: /from the config/ },
  );
  t.throws(() => stores.miners.add({ id: 'bad id!', driver: 'axeos', address: 'x', options: {}, tags: [] }, 'alice'), {
    code: 'USAGE',
    message: /miner id/,
  });
  t.throws(
    () => stores.miners.add({ id: 'y', driver: 'bogus' as never, address: 'x', options: {}, tags: [] }, 'alice'),
    { code: 'USAGE', message: /miner driver/ },
  );
  t.throws(() => stores.miners.add({ id: 'y', driver: 'command', address: 'x', options: {}, tags: [] }, 'alice'), {
    code: 'USAGE',
    message: /not a miner driver/,
  });
  t.throws(() => stores.miners.update('cfg', { location: 'shed' }, 'alice'), {
    code: 'FORBIDDEN',
    message: /read-only/,
  });
  t.throws(() => stores.miners.remove('cfg', 'alice'), { code: 'FORBIDDEN' });
  t.throws(() => stores.miners.update('nope', {}, 'alice'), { code: 'NOT_FOUND' });
  const u = stores.miners.update('x', { location: 'shed', tags: ['a', 'b'], pollIntervalMs: 5000 }, 'bob');
  t.match(u, { location: 'shed', tags: ['a', 'b'], pollIntervalMs: 5000, source: 'api' });
  t.match(stores.events.recent({ minerId: 'x', limit: 1 })[0], {
    actor: 'bob',
    message: /edited \(location, tags, pollIntervalMs\)/,
  });
  stores.desired.set('x', { mode: 'eco' }, 'bob');
  stores.miners.remove('x', 'bob');
  t.equal(stores.miners.get('x'), undefined);
  t.equal(stores.desired.get('x'), undefined, 'its desired state goes with it');
});

t.test(
  'pools: passwords masked in every listing, read only through secret(); assignments resolve by miner then tag',
  async (t) => {
    const { stores } = fleetDb(t);
    const ocean = stores.pools.add({
      id: 'ocean',
      name: 'Ocean',
      url: 'stratum+tcp://mine.ocean.xyz',
      port: 3334,
      user: 'bc1q.w',
      password: 'hunter2',
      tls: false,
    });
    const braiins = stores.pools.add({
      name: 'Braiins',
      url: 'stratum+ssl://eu.braiins.com',
      port: 443,
      user: 'me',
      password: null,
      tls: true,
    });
    t.equal(ocean.password, PASSWORD_MASK);
    t.equal(braiins.password, null);
    t.notOk(JSON.stringify(stores.pools.list()).includes('hunter2'), 'never in a listing');
    t.equal(stores.pools.secret('ocean'), 'hunter2');
    t.equal(stores.pools.update('ocean', { password: PASSWORD_MASK, port: 3333 }).port, 3333);
    t.equal(stores.pools.secret('ocean'), 'hunter2', 'an echoed mask keeps the password');
    stores.pools.update('ocean', { password: 's3cret' });
    t.equal(stores.pools.secret('ocean'), 's3cret');
    t.throws(
      () => stores.pools.add({ name: 'x', url: 'http://pool', port: 1, user: 'u', password: null, tls: false }),
      { code: 'USAGE', message: /pool url/ },
    );
    t.throws(
      () => stores.pools.add({ name: 'x', url: 'stratum+tcp://h', port: 70000, user: 'u', password: null, tls: false }),
      { code: 'USAGE', message: /pool port/ },
    );

    stores.pools.setAssignment({ scope: { tag: 'garage' }, poolIds: [braiins.id, 'ocean'] });
    stores.pools.setAssignment({ scope: { tag: 'shed' }, poolIds: ['ocean'] });
    stores.pools.setAssignment({ scope: { miner: 'special' }, poolIds: ['ocean'] });
    t.throws(() => stores.pools.setAssignment({ scope: { miner: 'z' }, poolIds: ['nope'] }), { code: 'NOT_FOUND' });
    const miner = (id: string, tags: string[]) => cfg(id, 'http://h', { tags });
    t.same(
      stores.pools.resolveFor(miner('m1', ['shed', 'garage']))!.map((p) => p.id),
      ['ocean'],
      "the miner's first tag with an assignment",
    );
    t.same(
      stores.pools.resolveFor(miner('m2', ['garage']))!.map((p) => p.id),
      [braiins.id, 'ocean'],
      'in priority order',
    );
    t.same(
      stores.pools.resolveFor(miner('special', ['garage']))!.map((p) => p.id),
      ['ocean'],
      "the miner's own list first",
    );
    t.equal(stores.pools.resolveFor(miner('m3', [])), null);
    t.throws(() => stores.pools.remove('ocean'), { code: 'CONFLICT', message: /tag garage/ });
    stores.pools.clearAssignment({ tag: 'garage' });
    stores.pools.clearAssignment({ tag: 'shed' });
    stores.pools.clearAssignment({ miner: 'special' });
    stores.pools.remove('ocean');
    t.equal(stores.pools.get('ocean'), undefined);
  },
);

t.test('desired state, events and stats', async (t) => {
  const { stores } = fleetDb(t);
  const d = stores.desired.set('m', { mode: 'turbo' }, 'alice');
  t.match(d, { mode: 'turbo', paused: null, poolIds: null, updatedBy: 'alice' });
  t.match(stores.desired.set('m', { paused: true, poolIds: ['a'] }, 'bob'), {
    mode: 'turbo',
    paused: true,
    poolIds: ['a'],
    updatedBy: 'bob',
  });

  for (let i = 0; i < 5; i++)
    stores.events.append({ minerId: i % 2 ? 'a' : 'b', kind: i % 2 ? 'mode' : 'offline', message: `e${i}` });
  t.same(
    stores.events.recent({ limit: 2 }).map((e) => e.message),
    ['e4', 'e3'],
  );
  t.same(
    stores.events.recent({ minerId: 'a' }).map((e) => e.message),
    ['e3', 'e1'],
  );
  t.same(
    stores.events.recent({ kinds: ['offline'], beforeId: 5 }).map((e) => e.message),
    ['e2', 'e0'],
  );

  stores.miners.syncConfigMiners([
    cfg('a', 'http://1', { expectedHashrateGhs: 1000 }),
    cfg('b', 'http://2'),
    cfg('c', 'http://3'),
  ]);
  const reading = (h: number | null, p: number | null) => ({
    device: 'x',
    driver: 'axeos' as const,
    at: new Date().toISOString(),
    online: true,
    hashrateGhs: h,
    expectedHashrateGhs: 500,
    powerW: p,
    efficiencyJth: null,
    temperatures: {},
    fans: [],
    sharesAccepted: null,
    sharesRejected: null,
    uptimeS: null,
    firmwareVersion: null,
    paused: null,
    raw: { big: 'x' },
  });
  stores.live.write([
    { id: 'a', status: 'online', missed: 0, lastSeenAt: 1, last: reading(1000, 20), lastError: null },
    { id: 'b', status: 'online', missed: 0, lastSeenAt: 1, last: reading(500, null), lastError: null },
    { id: 'c', status: 'offline', missed: 3, lastSeenAt: 1, last: reading(9999, 99), lastError: 'gone' },
  ]);
  t.equal(stores.miners.get('a')!.last!.raw, null, "the device's raw reply is not kept");
  const s = computeFleetStats(stores.miners.list(), Date.UTC(2026, 0, 1));
  t.match(s, {
    miners: 3,
    online: 2,
    offline: 1,
    unknown: 0,
    hashrateGhs: 1500,
    expectedHashrateGhs: 2000,
    powerW: 20,
    efficiencyJth: 20,
    at: '2026-01-01T00:00:00.000Z',
  });
});

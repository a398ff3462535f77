// The collector against real simulators (AxeOS, cgminer, NMMiner over UDP) and a real SQLite file:
// readings stored and queryable, an offline/online cycle recorded as events, devices that hang,
// answer garbage or hang up never holding the others back.
import t from 'tap';
import { createServer, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAxeosSim, startCgminerSim, startNmminerSim } from '../../sim/index.js';
import type { MinerDefinition } from '../../fleet/types.js';
import { waitFor } from '../helpers/mvm-process.js';
import { fleetDb, startCollector } from './helpers.js';

function def(
  id: string,
  driver: MinerDefinition['driver'],
  address: string,
  options: Record<string, unknown> = {},
): MinerDefinition {
  return { id, driver, address, options, tags: [], source: 'config' };
}

async function listen<S extends Server | HttpServer>(server: S): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

t.test('a fleet of AxeOS, cgminer and NMMiner simulators is collected and its history stored', async (t) => {
  const { stores } = fleetDb(t);
  const axeos = await startAxeosSim({ board: '601', seed: 'fleet-a' });
  const supra = await startAxeosSim({ board: '401', seed: 'fleet-b' });
  const nano = await startCgminerSim({ model: 'nano3s' });
  t.teardown(() => Promise.all([axeos.close(), supra.close(), nano.close()]).then(() => undefined));

  stores.miners.syncConfigMiners([
    def('gamma', 'axeos', axeos.url),
    def('supra', 'axeos', supra.url),
    def('nano', 'cgminer', nano.address),
    def('lotto', 'nmminer', '127.0.0.1', { offline_after_ms: 3000 }),
  ]);
  const collector = await startCollector(t, stores, {
    pollIntervalMs: 150,
    udpPort: 0,
    udpAddress: '127.0.0.1',
    requestTimeoutMs: 2000,
  });
  const udpPort = collector.udpPort();
  t.ok(udpPort, 'the shared NMMiner listener is bound');
  const lotto = await startNmminerSim({
    listen: '127.0.0.1:0',
    telemetry: `127.0.0.1:${udpPort}`,
    report: '127.0.0.1:9',
    intervalMs: 100,
  });
  t.teardown(() => lotto.close());

  const heard: string[] = [];
  const off = collector.onReading((id, r) => {
    if (r.online) heard.push(id);
  });
  await waitFor(
    () => ['gamma', 'supra', 'nano', 'lotto'].every((id) => stores.live.get(id)?.status === 'online'),
    'every miner online',
    30_000,
  );
  // A few readings each, written to the database.
  await waitFor(
    () =>
      ['gamma', 'supra', 'nano', 'lotto'].every(
        (id) =>
          stores.history.query({ minerId: id, from: Date.now() - 60_000, to: Date.now() + 1000 }).points.length >= 3,
      ),
    'three samples per miner',
    30_000,
  );
  off();
  t.ok(heard.includes('lotto') && heard.includes('nano'), 'listeners hear the readings');

  const gamma = stores.miners.get('gamma')!;
  t.equal(gamma.status, 'online');
  t.ok((gamma.last?.hashrateGhs ?? 0) > 0, 'the AxeOS hashrate is read');
  t.ok(Object.keys(gamma.last?.temperatures ?? {}).length > 0, 'and its temperatures');
  t.ok((stores.miners.get('nano')!.last?.hashrateGhs ?? 0) > 0, 'the cgminer hashrate is read');
  t.ok((stores.miners.get('lotto')!.last?.hashrateGhs ?? 0) > 0, 'the NMMiner hashrate comes from its broadcasts');

  const now = Date.now();
  const raw = stores.history.query({ minerId: 'gamma', from: now - 3_600_000, to: now + 1000 });
  t.equal(raw.resolution, 'raw');
  t.ok(raw.points.every((p) => p.n === 1 && p.hashrateGhs !== null));
  const minute = stores.history.query({ minerId: 'gamma', from: now - (3 * 86_400_000) / 2, to: now + 1000 });
  t.equal(minute.resolution, 'minute');
  const rawN = raw.points.length;
  t.ok(minute.points.reduce((a, p) => a + p.n, 0) >= rawN, 'the minute roll-ups count every raw sample');
  const hour = stores.history.query({ minerId: 'gamma', from: now - 7 * 86_400_000, to: now + 1000 });
  t.equal(hour.resolution, 'hour');
  t.ok(hour.points.length >= 1 && hour.points.length <= 2);

  // pollNow reads at once, through the same path.
  const r = await collector.pollNow('supra');
  t.equal(r.online, true);
  t.ok(collector.stats().rounds > 0, 'rounds are counted');
  t.ok(collector.counts().datagrams > 0);
});

t.test('an offline/online cycle is recorded as events', async (t) => {
  const { stores } = fleetDb(t);
  let sim = await startAxeosSim({ seed: 'cycle' });
  const port = sim.port;
  t.teardown(() => sim.close());
  stores.miners.syncConfigMiners([def('cycle', 'axeos', sim.url)]);
  await startCollector(t, stores, { pollIntervalMs: 100, offlineAfter: 2, requestTimeoutMs: 1000 });
  await waitFor(() => stores.live.get('cycle')?.status === 'online', 'online', 20_000);
  t.same(stores.events.recent({ kinds: ['online', 'offline'] }), [], 'first contact is no event');

  await sim.close();
  await waitFor(() => stores.live.get('cycle')?.status === 'offline', 'offline', 20_000);
  const offline = stores.events.recent({ minerId: 'cycle', kinds: ['offline'] });
  t.equal(offline.length, 1, 'one offline event');
  t.match(offline[0], { level: 'warn', actor: 'collector', message: /offline: 2 readings missed/ });
  t.ok(stores.live.get('cycle')!.lastError, 'the last error is kept');
  await waitFor(
    () =>
      stores.history
        .query({ minerId: 'cycle', from: Date.now() - 60_000, to: Date.now() + 1000 })
        .points.some((p) => p.hashrateGhs === null),
    'an offline sample',
    20_000,
  );

  sim = await startAxeosSim({ seed: 'cycle', listen: `127.0.0.1:${port}` });
  await waitFor(() => stores.live.get('cycle')?.status === 'online', 'back online', 30_000);
  const online = stores.events.recent({ minerId: 'cycle', kinds: ['online'] });
  t.equal(online.length, 1, 'one online event');
  t.match(online[0].message, /back online/);
  t.equal(stores.live.get('cycle')!.missed, 0);
});

t.test('miners that hang, answer garbage or hang up do not stall the others', async (t) => {
  const { stores } = fleetDb(t);
  const good = await startAxeosSim({ seed: 'good' });
  t.teardown(() => good.close());
  // Accepts and never answers.
  const hang = createServer(() => undefined);
  const hangPort = await listen(hang);
  // Answers HTTP with something that is not AxeOS JSON.
  const garbage = createHttpServer((_req, res) => res.end('<html>not a miner</html>'));
  const garbagePort = await listen(garbage);
  // cgminer port that closes at once.
  const hangup = createServer((s) => s.destroy());
  const hangupPort = await listen(hangup);
  t.teardown(() => {
    hang.close();
    garbage.close();
    hangup.close();
    garbage.closeAllConnections();
  });
  const sockets = new Set<import('node:net').Socket>();
  hang.on('connection', (s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  t.teardown(() => sockets.forEach((s) => s.destroy()));

  stores.miners.syncConfigMiners([
    def('good', 'axeos', good.url),
    def('hang', 'axeos', `http://127.0.0.1:${hangPort}`),
    def('hang2', 'cgminer', `127.0.0.1:${hangPort}`),
    def('garbage', 'axeos', `http://127.0.0.1:${garbagePort}`),
    def('hangup', 'cgminer', `127.0.0.1:${hangupPort}`),
  ]);
  // Two slots: if the hung miners held them, the good one would never be read again.
  await startCollector(t, stores, {
    pollIntervalMs: 100,
    offlineAfter: 1,
    concurrency: 2,
    requestTimeoutMs: 500,
  });
  await waitFor(
    () => ['hang', 'hang2', 'garbage', 'hangup'].every((id) => stores.live.get(id)?.status === 'offline'),
    'the bad miners offline',
    30_000,
  );
  const readingsBefore = stores.history.query({ minerId: 'good', from: Date.now() - 60_000, to: Date.now() + 1000 })
    .points.length;
  await waitFor(
    () =>
      stores.history
        .query({ minerId: 'good', from: Date.now() - 60_000, to: Date.now() + 1000 })
        .points.filter((p) => p.hashrateGhs !== null).length >=
      readingsBefore + 5,
    'the good miner still read',
    30_000,
  );
  t.equal(stores.live.get('good')!.status, 'online');
  t.match(stores.live.get('hang')!.lastError, /timeout|within|timed out/i);
  t.ok(stores.live.get('garbage')!.lastError, 'the garbage answer is an error');
});

t.test('suspend stops reading a miner until resume', async (t) => {
  const { stores } = fleetDb(t);
  const sim = await startAxeosSim({ seed: 'suspend' });
  const other = await startAxeosSim({ seed: 'other' });
  t.teardown(() => Promise.all([sim.close(), other.close()]).then(() => undefined));
  stores.miners.syncConfigMiners([def('s', 'axeos', sim.url), def('other', 'axeos', other.url)]);
  const collector = await startCollector(
    t,
    stores,
    { pollIntervalMs: 100 },
    {
      flushIntervalMs: 50,
    },
  );
  const reads: Record<string, number> = { s: 0, other: 0 };
  collector.onReading((id) => reads[id]++);
  await waitFor(() => stores.live.get('s')?.status === 'online', 'online');
  collector.suspend('s', 'a flash is in progress');
  await t.rejects(collector.pollNow('s'), { code: 'CONFLICT', message: /flash is in progress/ });
  await waitFor(() => collector.stats().inFlight === 0, 'nothing in flight');
  const before = { ...reads };
  // The other miner is read five times meanwhile; the suspended one not once.
  await waitFor(() => reads.other >= before.other + 5, 'the other miner read', 30_000);
  t.equal(reads.s, before.s, 'no reading while suspended');
  collector.resume('s');
  await waitFor(() => reads.s > before.s, 'read again after resume');
});

t.test('pollNow while readings are in flight: one reading at a time, shared, never doubled', async (t) => {
  const { stores } = fleetDb(t);
  stores.miners.syncConfigMiners([def('slow', 'axeos', 'http://127.0.0.1:9')]);
  let calls = 0;
  const waiting: Array<() => void> = [];
  const reading = (n: number) =>
    ({
      device: 'slow',
      driver: 'axeos',
      at: new Date().toISOString(),
      online: true,
      hashrateGhs: n,
      expectedHashrateGhs: null,
      powerW: null,
      efficiencyJth: null,
      temperatures: {},
      fans: [],
      sharesAccepted: null,
      sharesRejected: null,
      uptimeS: n,
      firmwareVersion: null,
      paused: null,
      raw: null,
    }) as const;
  const collector = await startCollector(
    t,
    stores,
    { pollIntervalMs: 3_600_000, udpPort: 0, udpAddress: '127.0.0.1', requestTimeoutMs: 60_000 },
    {
      createDriver: (spec) =>
        ({
          device: spec,
          telemetry: () => {
            const n = ++calls;
            return new Promise((resolve) => waiting.push(() => resolve(reading(n))));
          },
          close: async () => undefined,
        }) as never,
    },
  );
  await waitFor(() => calls === 1, 'the scheduled reading under way', 10_000);
  const a = collector.pollNow('slow');
  const b = collector.pollNow('slow');
  waiting.shift()!(); // the scheduled reading answers
  await waitFor(() => calls >= 2, 'the asked-for reading under way', 10_000);
  await new Promise((r) => setImmediate(r));
  t.equal(calls, 2, 'two callers asking while a reading ran got one more reading, not two');
  while (waiting.length > 0) waiting.shift()!();
  const [ra, rb] = await Promise.all([a, b]);
  t.equal(ra.uptimeS, 2);
  t.equal(rb.uptimeS, 2, 'both have the newest reading');
  t.equal(stores.live.get('slow')?.status, 'online', 'the status is shown at once, before the batch is written');
});

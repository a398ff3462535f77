// The fleet watching two factories ([lab.a], [lab.b]) as real processes: one job server, two
// `mvm factory` with their own config, database and AxeOS simulators, and `mvm fleet` with a
// fleet-only config. Each lab's testbed devices become miners (NAME@LAB where both labs have the
// name), an action reserves the testbed on the right factory, `/api/labs` lists both labs'
// testbeds, and a factory that stops shows as unreachable while the other is still listed.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { startAxeosSim } from '../../sim/index.js';
import { waitFor } from '../helpers/mvm-process.js';
import { factoryApi, type LabApi } from '../factory/fixture.js';
import { startMultiLab } from '../factory/multi-lab.js';
import { startFleet } from './daemon-helpers.js';

t.test('the fleet over two factories: miners, reservations and listings per lab', async (t) => {
  const sims = await Promise.all(['a-gamma', 'b-gamma', 'b-solo'].map((seed) => startAxeosSim({ board: '601', seed })));
  t.teardown(() => Promise.all(sims.map((s) => s.close())).then(() => undefined));
  const [simA, simB, simSolo] = sims;
  const multi = await startMultiLab(t, {
    hosts: {
      a: [{ name: 'gamma-1', targets: ['bitaxe'], deviceKeys: [`address = "${simA.url}"`] }],
      b: [
        { name: 'gamma-1', targets: ['bitaxe'], deviceKeys: [`address = "${simB.url}"`] },
        { name: 'solo', targets: ['bitaxe'], deviceKeys: [`address = "${simSolo.url}"`] },
      ],
    },
  });
  const procA = await multi.hosts.get('a')!.start();
  const procB = await multi.hosts.get('b')!.start();
  const apiA = await factoryApi(procA, multi.hosts.get('a')!.dbFile);
  const apiB = await factoryApi(procB, multi.hosts.get('b')!.dbFile);
  const fleetToken = async (api: LabApi) => {
    const r = await api.call('POST', '/v1/users', { body: { name: 'fleet' } });
    t.equal(r.status, 201);
    return r.body.token as string;
  };
  const config = [
    '[fleet]',
    'poll_interval = "300ms"',
    'udp_port = 0',
    '',
    '[lab.a]',
    `url = "${apiA.url}"`,
    `token = "${await fleetToken(apiA)}"`,
    '',
    '[lab.b]',
    `url = "${apiB.url}"`,
    `token = "${await fleetToken(apiB)}"`,
    '',
  ].join('\n');
  const fleet = await startFleet(t, config);
  t.match(fleet.proc.stdout.join('\n'), /labs a http:\S+, b http:\S+/, 'the start-up line names both labs');

  // every lab's devices, named NAME@LAB where both labs have the testbed
  const ids = ['gamma-1.miner@a', 'gamma-1.miner@b', 'solo.miner'];
  await waitFor(
    async () => {
      const list = (await fleet.call('GET', '/api/miners')).body as Array<{ id: string; status: string }>;
      return ids.every((id) => list.some((m) => m.id === id && m.status === 'online'));
    },
    'both labs’ devices read by the fleet',
    60_000,
    200,
  );
  const mA = (await fleet.call('GET', '/api/miners/gamma-1.miner@a')).body;
  t.match(mA, { source: 'testbed', testbed: 'gamma-1@a', lab: 'a', address: simA.url, readOnly: true });
  t.match((await fleet.call('GET', '/api/miners/solo.miner')).body, { testbed: 'solo@b', lab: 'b' });

  // an action on lab b's gamma-1 reserves it on factory b, and only there
  const freqA = simA.device.settings.frequency;
  const done = await fleet.call('POST', '/api/miners/gamma-1.miner@b/mode', { body: { mode: 'eco' } });
  t.equal(done.status, 200, JSON.stringify(done.body));
  t.equal(simB.device.settings.frequency, 400, 'lab b’s device runs eco');
  t.equal(simA.device.settings.frequency, freqA, 'lab a’s device of the same name untouched');
  const histB = (await apiB.call('GET', '/v1/testbeds/gamma-1/history?limit=10')).body.events.map(
    (e: { kind: string; message: string }) => `${e.kind}: ${e.message}`,
  );
  t.match(histB.slice(0, 2), [
    /^released: fleet released it/,
    /^reserved: fleet reserved it .*mode eco on gamma-1\.miner@b/,
  ]);
  const histA = (await apiA.call('GET', '/v1/testbeds/gamma-1/history?limit=10')).body.events as Array<{
    kind: string;
  }>;
  t.notOk(
    histA.some((e) => e.kind === 'reserved'),
    'factory a saw no reservation',
  );

  // someone holds gamma-1 on lab a: the fleet's action there is refused, naming the testbed NAME@LAB
  const alice = await apiA.call('POST', '/v1/users', { body: { name: 'alice' } });
  t.equal(
    (
      await apiA.call('POST', '/v1/testbeds/gamma-1/reservation', {
        token: alice.body.token,
        body: { ttl: '1h', reason: 'bench work' },
      })
    ).status,
    201,
  );
  const refused = await fleet.call('POST', '/api/miners/gamma-1.miner@a/mode', { body: { mode: 'eco' } });
  t.equal(refused.status, 409);
  t.match(refused.body, { error_code: 'TestbedBusy', testbed: 'gamma-1@a', holder: { owner: 'alice' } });
  t.match(refused.body.message, /testbed gamma-1@a is reserved by alice until/);

  // one listing of both labs, and each lab's factory API through the proxy
  const listing = (await fleet.call('GET', '/api/labs')).body;
  t.match(listing.labs, [
    { name: 'a', url: apiA.url, reachable: true, error: null, testbeds: 1 },
    { name: 'b', url: apiB.url, reachable: true, error: null, testbeds: 2 },
  ]);
  t.same(
    listing.testbeds.map((tb: { ref: string; lab: string; name: string }) => `${tb.lab}:${tb.name}:${tb.ref}`).sort(),
    ['a:gamma-1:gamma-1@a', 'b:gamma-1:gamma-1@b', 'b:solo:solo'],
  );
  t.match(
    listing.testbeds.find((tb: { lab: string }) => tb.lab === 'a'),
    { lock: { owner: 'alice' } },
  );
  const onlyB = (await fleet.call('GET', '/api/labs?lab=b')).body;
  t.same(
    onlyB.testbeds.map((tb: { ref: string }) => tb.ref).sort(),
    ['gamma-1@b', 'solo'],
    'a filtered listing names testbeds as the whole one does',
  );
  t.equal((await fleet.call('GET', '/api/labs?lab=c')).status, 404);
  const viaProxy = await fleet.call('GET', '/api/labs/b/v1/testbeds/solo');
  t.equal(viaProxy.status, 200);
  t.equal(viaProxy.body.name, 'solo');
  t.match((await fleet.call('GET', '/api/web/lab')).body, { labs: ['a', 'b'] });
  const learnt = (await fleet.call('GET', '/api/dashboard/events/recent?kind=config&limit=50')).body as Array<{
    actor: string;
    message: string;
  }>;
  for (const lab of ['a', 'b'])
    t.ok(
      learnt.some(
        (e) =>
          e.actor === 'lab' &&
          new RegExp(`^lab ${lab} lists other testbed devices: \\d+ miner\\(s\\) added`).test(e.message),
      ),
      `the miners learnt from lab ${lab} are an event`,
    );
  const cli = await fleet.cli(['labs']);
  t.equal(cli.code, 0, cli.stderr);
  t.match(cli.stdout, /^LAB\s+URL\s+TESTBEDS\s+STATE/);
  t.match(cli.stdout, /\na\s+http:\S+\s+1\s+ok/);
  t.match(cli.stdout, /\ngamma-1@b\s+b\s+free/);

  // factory a stops: it shows as unreachable, lab b is still listed, lab a's miners stay
  await procA.stop(10_000);
  const down = (await fleet.call('GET', '/api/labs')).body;
  t.match(down.labs, [
    { name: 'a', reachable: false, error: /./ },
    { name: 'b', reachable: true, testbeds: 2 },
  ]);
  t.same(
    down.testbeds.map((tb: { lab: string }) => tb.lab),
    ['b', 'b'],
    'lab b’s testbeds still listed',
  );
  t.equal(
    down.testbeds.find((tb: { name: string }) => tb.name === 'gamma-1').ref,
    'gamma-1@b',
    'names do not change while a lab is down',
  );
  t.equal((await fleet.call('GET', '/api/miners/gamma-1.miner@a')).status, 200, 'lab a’s miner is kept');
  const cliDown = await fleet.cli(['labs']);
  t.match(cliDown.stdout, /\na\s+http:\S+\s+\d+\s+UNREACHABLE: /);
  t.match(cliDown.stderr, /lab a does not answer/);

  const proxied = await fleet.call('GET', '/api/labs/a/v1/testbeds');
  t.equal(proxied.status, 502);
  t.match(proxied.body.message, /the factory API of lab a at \S+ did not answer/);
  const noReserve = await fleet.call('POST', '/api/miners/gamma-1.miner@a/mode', { body: { mode: 'turbo' } });
  t.equal(noReserve.status, 503, JSON.stringify(noReserve.body));
  t.match(noReserve.body.message, /lab a/);

  // the fleet restarted while factory a is down keeps lab a's miners under their names
  await fleet.stop();
  const again = await startFleet(t, config, { dataDir: fleet.dataDir });
  const after = (await again.call('GET', '/api/miners')).body as Array<{ id: string }>;
  t.same(after.map((m) => m.id).sort(), ids, 'lab a’s miners survive a restart while its factory is down');

  // SIGHUP without [lab.a]: its miners go, and lab b's gamma-1 no longer needs its lab in its name
  writeFileSync(again.configFile, config.replace(/\[lab\.a\][^[]*/, ''));
  again.proc.child.kill('SIGHUP');
  await again.proc.waitForLine(/^mvm fleet reloaded .*lab/, 30_000);
  await waitFor(
    async () => {
      const list = (await again.call('GET', '/api/miners')).body as Array<{ id: string }>;
      return (
        list
          .map((m) => m.id)
          .sort()
          .join(',') === 'gamma-1.miner,solo.miner'
      );
    },
    'lab a’s miners gone, lab b’s renamed',
    30_000,
    200,
  );
  const labsNow = (await again.call('GET', '/api/labs')).body;
  t.same(
    labsNow.labs.map((l: { name: string }) => l.name),
    ['b'],
  );
  t.same(labsNow.testbeds.map((tb: { ref: string }) => tb.ref).sort(), ['gamma-1', 'solo']);
  t.match((await again.call('GET', '/api/miners/gamma-1.miner')).body, { testbed: 'gamma-1@b', lab: 'b' });
});

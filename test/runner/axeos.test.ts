// The axeos driver against the AxeOS simulator (real HTTP on loopback): every operation, every
// firmware generation whose API differs, and every fault ending in a typed failure.
import t from 'tap';
import { waitFor } from '../helpers/mvm-process.js';
import { driverFor, rejects, sim } from './axeos-support.js';

t.test('v2.15 Gamma: info and telemetry', async (t) => {
  const s = await sim(t, { board: '601' });
  const d = driverFor(s);
  const info = await d.info();
  t.equal(info.model, 'Bitaxe Gamma');
  t.equal(info.hardware, '601');
  t.equal(info.firmwareVersion, 'v2.15.0');
  t.equal(info.imageProject, 'esp-miner');
  const tel = await d.telemetry();
  t.equal(tel.driver, 'axeos');
  t.ok(tel.online);
  t.ok(tel.hashrateGhs! > 0, `hashrate ${tel.hashrateGhs}`);
  t.ok(tel.expectedHashrateGhs! > 0);
  t.ok(tel.powerW! > 0);
  t.ok(tel.efficiencyJth! > 0);
  t.ok(tel.temperatures.chip > 0);
  t.ok(tel.fans.length >= 1);
  t.equal(tel.firmwareVersion, 'v2.15.0');
  t.equal(tel.paused, false);
  t.type(tel.uptimeS, 'number');
});

t.test('v2.15 Gamma: control operations', async (t) => {
  const s = await sim(t, { board: '601' });
  const d = driverFor(s);

  t.match((await d.control({ op: 'pause' })).message, /paused/i);
  t.equal((await d.telemetry()).paused, true);
  t.equal((await d.telemetry()).hashrateGhs, 0);
  await d.control({ op: 'resume' });
  t.equal((await d.telemetry()).paused, false);

  const eco = await d.control({ op: 'mode', mode: 'eco' });
  t.same(eco.details, { asic: 'BM1370', frequency: 400, coreVoltage: 1000 });
  t.equal(s.device.settings.frequency, 400);
  t.equal(s.device.settings.coreVoltage, 1000);
  await d.control({ op: 'mode', mode: 'oc' });
  t.equal(s.device.settings.overclockEnabled, 1);

  await d.control({ op: 'frequency', mhz: 550 });
  t.equal(s.device.settings.frequency, 550);
  await d.control({ op: 'voltage', mv: 1100 });
  t.equal(s.device.settings.coreVoltage, 1100);
  await d.control({ op: 'fan', percent: 55 });
  t.equal(s.device.settings.autofanspeed, 0);
  t.equal(s.device.settings.manualFanSpeed, 55);
  await rejects(t, d.control({ op: 'frequency', mhz: 5000 }), 'invalid_argument');

  const set = await d.control({
    op: 'pools-set',
    pools: [
      { url: 'stratum+tcp://pool.one.example:3333', user: 'w1', password: 'p1' },
      { url: 'stratum+tcp://pool.two.example:4444', user: 'w2' },
    ],
  });
  t.equal(set.needsRestart, true);
  t.match(set.message, /pools API/);
  t.equal(s.device.settings.pools[0]?.stratumURL, 'pool.one.example');
  t.equal(s.device.settings.pools[1]?.stratumPort, 4444);
  await d.control({ op: 'pools-switch', index: 1 });
  t.equal(s.device.settings.primaryPoolIndex, 1);
  t.equal(s.device.settings.secondaryPoolIndex, 0);
  await rejects(t, d.control({ op: 'pools-switch', index: 5 }), 'invalid_argument');
  await rejects(t, d.control({ op: 'pools-set', pools: [{ url: 'nohost', user: 'x' }] }), 'invalid_argument');

  const before = s.device.bootCount;
  const r = await d.control({ op: 'restart' });
  t.equal(r.message, 'System will restart shortly.', 'JSON message unwrapped');
  await waitFor(() => s.device.bootCount > before && s.device.power === 'up', 'the simulated device to reboot', 10_000);
  t.ok((await d.telemetry()).online);
});

t.test('v2.12 Supra: stratum keys, plain-text restart, no pause', async (t) => {
  const s = await sim(t, { board: '401', firmware: 'v2.12.0' });
  const d = driverFor(s);
  t.equal((await d.info()).model, 'Bitaxe Supra');
  const set = await d.control({
    op: 'pools-set',
    pools: [
      { url: 'stratum+tcp://old.example:3333', user: 'w' },
      { url: 'back.example:3334', user: 'b' },
    ],
  });
  t.match(set.message, /stratum keys/);
  t.equal(s.device.settings.pools[0]?.stratumURL, 'old.example');
  t.equal(s.device.settings.pools[1]?.stratumURL, 'back.example');
  await rejects(
    t,
    d.control({ op: 'pools-set', pools: [1, 2, 3].map((i) => ({ url: `p${i}.example:1`, user: 'u' })) }),
    'invalid_argument',
  );
  await d.control({ op: 'pools-switch', index: 1 });
  t.equal(s.device.settings.useFallbackStratum, 1);
  await rejects(t, d.control({ op: 'pause' }), 'unsupported', /v2\.14/);
  const m = await d.control({ op: 'mode', mode: 'standard' });
  t.same(m.details, { asic: 'BM1368', frequency: 490, coreVoltage: 1166 });
  const r = await d.control({ op: 'restart' });
  t.equal(r.message, 'System will restart shortly.', 'plain-text reply');
});

t.test('a v2.15 device ignores the old stratum keys: forcing them is caught by the read-back', async (t) => {
  const s = await sim(t, { board: '601', firmware: 'v2.15.0' });
  const d = driverFor(s, { api_version: '2.12' });
  await rejects(
    t,
    d.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://x.example:3333', user: 'w' }] }),
    'refused',
    /did not apply/,
  );
});

t.test('NerdQAxe++: recognised, old pool keys', async (t) => {
  const s = await sim(t, { board: 'nerdqaxe++' });
  const d = driverFor(s);
  const info = await d.info();
  t.match(info.model, /NerdQAxe/);
  const set = await d.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://nerd.example:3333', user: 'w' }] });
  t.match(set.message, /stratum keys/);
  t.equal(s.device.settings.pools[0]?.stratumURL, 'nerd.example');
  await rejects(t, d.control({ op: 'pause' }), 'unsupported');
  t.ok((await d.telemetry()).hashrateGhs! > 0);
  const m = await d.control({ op: 'mode', mode: 'standard' });
  t.same(m.details, { asic: 'BM1370', frequency: 525, coreVoltage: 1150 });
  t.equal(s.device.settings.frequency, 525);
  await d.control({ op: 'fan', percent: 70 });
  t.equal(s.device.settings.manualFanSpeed, 70);
  const r = await d.control({ op: 'restart' });
  t.ok(r.message.length > 0);
});

t.test('faults end in typed failures within bounded time', async (t) => {
  const s = await sim(t, { board: '601', faults: ['slow=2000'] });
  const d = driverFor(s, { request_timeout_ms: 300 });
  const started = Date.now();
  await rejects(t, d.telemetry(), 'timeout');
  t.ok(Date.now() - started < 2000, 'slow replies time out at the request bound');
  await rejects(t, d.telemetry({ timeoutMs: 150 }), 'timeout');
  s.device.clearFault('slow');
  s.device.setFault('drop', 1);
  await rejects(t, d.telemetry(), 'unreachable');
  s.device.clearFault('drop');
  t.ok((await d.telemetry()).online, 'recovers once the fault clears');
  await s.close();
  await rejects(t, d.info(), 'unreachable');
  const ctl = new AbortController();
  const p = d.telemetry({ signal: ctl.signal });
  ctl.abort(new Error('test abort'));
  await t.rejects(p, { code: 'ABORTED' });
});

t.test('overheat shows in telemetry', async (t) => {
  const s = await sim(t, { board: '601', faults: ['overheat=20'] });
  const d = driverFor(s);
  const first = (await d.telemetry()).temperatures.chip;
  const hot = await waitFor(
    async () => {
      const tel = await d.telemetry();
      return tel.temperatures.chip > first + 5 ? tel : undefined;
    },
    'the chip temperature to climb',
    10_000,
    100,
  );
  t.ok(hot.temperatures.chip > first);
});

t.test('every simulated board is recognised with its ASIC', async (t) => {
  for (const [board, model, asic] of [
    ['102', 'Bitaxe Max', 'BM1397'],
    ['204', 'Bitaxe Ultra', 'BM1366'],
    ['302', 'Bitaxe UltraHex', 'BM1366'],
    ['401', 'Bitaxe Supra', 'BM1368'],
    ['701', 'Bitaxe SupraHex', 'BM1368'],
    ['601', 'Bitaxe Gamma', 'BM1370'],
    ['800', 'Bitaxe GT', 'BM1370'],
  ] as const) {
    const s = await sim(t, { board });
    const d = driverFor(s);
    t.equal((await d.info()).model, model, board);
    const eco = await d.control({ op: 'mode', mode: 'eco' });
    t.equal(eco.details?.asic, asic, `${board} eco on ${asic}`);
    const tel = await d.telemetry();
    t.ok(tel.expectedHashrateGhs! > 0, `${board} expected hashrate ${tel.expectedHashrateGhs}`);
    await s.close();
  }
});

t.test('a read whose kept-alive connection was dropped is sent once more; a write never is', async (t) => {
  const s = await sim(t, { board: '601' });
  const d = driverFor(s);
  t.ok((await d.telemetry()).online, 'the first reading opens the connection that is kept');
  // From here every second request to the device has its connection dropped without a reply.
  s.device.setFault('drop', 0.5);
  t.ok((await d.telemetry()).online, 'answered on the kept connection');
  t.ok((await d.telemetry()).online, 'the kept connection was dropped: sent again on a new one');
  // A restart is not sent twice: its connection dropped, the call fails and the device stays up.
  await rejects(t, d.control({ op: 'restart' }), 'unreachable');
  t.equal(s.device.power, 'up', 'no second restart request reached the device');
});

t.test('a read whose connection the device closed without a reply is sent once more, reused or new', async (t) => {
  const s = await sim(t, { board: '601' });
  // Every second request has its connection dropped: another client takes the first, so this
  // driver's very first request, on a connection of its own, is dropped (a device that restarted
  // as the request went out, or purged the socket for another client).
  s.device.setFault('drop', 0.5);
  await (await fetch(`${s.url}/api/system/info`)).text();
  const d = driverFor(s);
  t.ok((await d.telemetry()).online, 'the dropped request was sent again on a new connection');
});

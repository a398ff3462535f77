// The NMMiner simulator over real UDP: telemetry datagrams (SI strings, both key cases), config
// pushes (repeated, no ack, only for 0.0.0.0 or its own IP) confirmed through the config report,
// faults, and `mvm sim nmminer` as a real process.
import { createSocket, type Socket } from 'node:dgram';
import t, { type Test } from 'tap';
import { startNmminerSim, type NmminerSim } from '../../sim/nmminer/index.js';
import { startMvm, stopAllMvm, waitFor } from '../helpers/mvm-process.js';
import { manualClock } from './support.js';

interface Listener {
  port: number;
  messages: { at: number; body: Record<string, any> }[];
  close(): void;
}

async function listen(t: Test): Promise<Listener> {
  const socket: Socket = createSocket('udp4');
  const messages: Listener['messages'] = [];
  socket.on('message', (m) => messages.push({ at: Date.now(), body: JSON.parse(m.toString('utf8')) }));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const l = { port: socket.address().port, messages, close: () => socket.close() };
  t.teardown(() => l.close());
  return l;
}

async function push(port: number, body: Record<string, unknown>, times = 10, gapMs = 20): Promise<void> {
  const socket = createSocket('udp4');
  const data = Buffer.from(JSON.stringify(body));
  for (let i = 0; i < times; i++) {
    await new Promise<void>((r) => socket.send(data, port, '127.0.0.1', () => r()));
    await new Promise((r) => setTimeout(r, gapMs)); // the sender's own pacing, as NMMiner tools send
  }
  socket.close();
}

async function sim(
  t: Test,
  opts: Parameters<typeof startNmminerSim>[0] & { tel: Listener; rep: Listener },
): Promise<NmminerSim> {
  const { tel, rep, ...rest } = opts;
  const s = await startNmminerSim({
    listen: '127.0.0.1:0',
    telemetry: `127.0.0.1:${tel.port}`,
    report: `127.0.0.1:${rep.port}`,
    intervalMs: 100,
    bootMs: 100,
    ...rest,
  });
  t.teardown(() => s.close());
  return s;
}

t.teardown(() => stopAllMvm());

t.test('telemetry: display strings with SI suffixes, upper-case keys on v0.3 builds', async (t) => {
  const tel = await listen(t);
  const rep = await listen(t);
  await sim(t, { tel, rep });
  await waitFor(() => tel.messages.length >= 3, 'three datagrams', 5000);
  const m = tel.messages[0]!.body;
  t.match(m, { IP: '127.0.0.1', BoardType: 'NMLotto', Version: 'v0.3.01', PoolInUse: 'public-pool.io:21496' });
  t.match(m.HashRate, /^\d+\.\d\dK$/);
  t.match(m.Share, /^\d+\/\d+$/);
  t.match(m.NetDiff, /^\d+\.\d\dT$/);
  t.match(m.BestDiff, /^\d+\.\d{3}[KM]$/);
  t.match(m.Uptime, /^\d\dd \d\d:\d\d:\d\d$/);
  t.equal(typeof m.Temp, 'number');
  t.equal(typeof m.RSSI, 'number');
  t.equal(typeof m.FreeHeap, 'number');
  t.match(m, { PoolDiff: '0.001', Valid: 0 });
  t.equal(typeof m.Progress, 'number');
});

t.test('newer builds: lower-case keys and MH/s strings', async (t) => {
  const tel = await listen(t);
  const rep = await listen(t);
  await sim(t, { tel, rep, keyCase: 'lower' });
  await waitFor(() => tel.messages.length >= 1, 'a datagram', 5000);
  const m = tel.messages[0]!.body;
  t.equal(m.ip, '127.0.0.1');
  t.notOk('IP' in m);
  t.match(m.hashrate, /^\d+\.\d{4}[KM]H\/s$/, 'an SI string; it may drift under 1 MH/s');
  await waitFor(() => rep.messages.length >= 1, 'a report', 5000);
  t.equal(rep.messages[0]!.body.ip, '127.0.0.1');
});

/** A complete config push, as NMController sends it. */
const FULL = {
  IP: '0.0.0.0',
  WiFiSSID: 'lab',
  WiFiPWD: 'secret123',
  PrimaryPool: 'stratum+tcp://new.pool:3333',
  PrimaryPassword: 'x',
  PrimaryAddress: 'bc1qnew.worker',
  SecondaryPool: 'stratum+tcp://backup.pool:3334',
  SecondaryPassword: 'x',
  SecondaryAddress: 'bc1qnew.worker',
  Timezone: 2,
  UIRefresh: 3,
  ScreenTimeout: 30,
  Brightness: 50,
  SaveUptime: true,
  LedEnable: false,
  RotateScreen: false,
  BTCPrice: false,
  AutoBrightness: true,
};

t.test('config push: applied once for 0.0.0.0 or our IP, confirmed in the report, never acknowledged', async (t) => {
  const tel = await listen(t);
  const rep = await listen(t);
  const s = await sim(t, { tel, rep });
  await waitFor(() => rep.messages.length >= 1, 'the start-up report', 5000);
  t.notOk('WiFiPWD' in rep.messages[0]!.body, 'passwords are not reported');

  await push(s.configPort, { IP: '10.9.9.9', PrimaryPool: 'stratum+tcp://other.pool:1', PrimaryAddress: 'nope' }, 3);
  await push(s.configPort, { IP: '0.0.0.0', PrimaryPool: 'not a url' }, 3);
  await push(s.configPort, FULL);
  const report = await waitFor(
    () => rep.messages.find((m) => m.body.PrimaryPool === 'stratum+tcp://new.pool:3333'),
    'the new config reported',
    5000,
  );
  t.match(report.body, {
    IP: '127.0.0.1',
    PrimaryAddress: 'bc1qnew.worker',
    SecondaryPool: 'stratum+tcp://backup.pool:3334',
    Timezone: 2,
    Brightness: 50,
    LedEnable: false,
  });
  t.equal(s.device.applied, 1, 'ten repeats, one change; the foreign and malformed pushes were ignored');
  t.equal(s.device.bootCount, 1, 'it restarted to apply the config');
  const tel2 = await waitFor(
    () => tel.messages.find((m) => m.body.PoolInUse === 'new.pool:3333'),
    'telemetry from the new pool',
    5000,
  );
  t.ok(tel2);

  const lower = Object.fromEntries(
    Object.entries({ ...FULL, IP: '127.0.0.1', PrimaryPool: 'stratum+tcp://third.pool:3335' }).map(([k, v]) => [
      k.toLowerCase(),
      v,
    ]),
  );
  await push(s.configPort, lower, 2);
  await waitFor(
    () => rep.messages.find((m) => m.body.PrimaryPool === 'stratum+tcp://third.pool:3335'),
    'a push to our IP, lower-case keys',
    5000,
  );
  t.equal(s.device.applied, 2);

  // A push with fields left out blanks them, as the firmware does: without its SSID the device is gone.
  await push(s.configPort, { IP: '0.0.0.0', PrimaryPool: 'stratum+tcp://partial.pool:1', PrimaryAddress: 'w' }, 2);
  await waitFor(() => s.device.applied === 3, 'the partial push applied', 5000);
  t.equal(s.device.config.WiFiSSID, '', 'the SSID was blanked');
  t.equal(s.device.offNetwork, true);
  const seen = tel.messages.length;
  s.sendTelemetry();
  t.equal(tel.messages.length, seen, 'nothing more from a device off the network');
});

t.test('a lenient device keeps what a push leaves out', async (t) => {
  const s = await sim(t, { tel: await listen(t), rep: await listen(t), lenientPush: true });
  await push(s.configPort, { IP: '0.0.0.0', PrimaryPool: 'stratum+tcp://partial.pool:1', PrimaryAddress: 'w' }, 2);
  await waitFor(() => s.device.applied === 1, 'the push applied', 5000);
  t.equal(s.device.config.WiFiSSID, 'lab');
});

t.test('broadcast on loopback: every listener bound to 0.0.0.0 on the port gets each datagram', async (t) => {
  // As the firmware broadcasts on its LAN: the fleet and a runner's health check listen on the same
  // port, and a unicast datagram would reach only one of them.
  const sockets: Socket[] = [];
  const got: string[][] = [[], []];
  for (const seen of got) {
    const s = createSocket({ type: 'udp4', reuseAddr: true });
    s.on('message', (m) => seen.push(JSON.parse(m.toString('utf8')).IP));
    await new Promise<void>((r) => s.bind(sockets[0]?.address().port ?? 0, '0.0.0.0', () => r()));
    sockets.push(s);
  }
  t.teardown(() => sockets.forEach((s) => s.close()));
  const rep = await listen(t);
  const s = await startNmminerSim({
    listen: '127.0.0.1:0',
    telemetry: `127.255.255.255:${sockets[0]!.address().port}`,
    report: `127.0.0.1:${rep.port}`,
    intervalMs: 60_000,
  });
  t.teardown(() => s.close());
  s.sendTelemetry();
  s.sendTelemetry();
  await waitFor(() => got.every((g) => g.length >= 2) || undefined, 'both listeners to get both datagrams', 10_000);
  // (the device's own first datagram, within its first second, may add one more to each)
  for (const [i, seen] of got.entries())
    t.ok(
      seen.every((ip) => ip === '127.0.0.1'),
      `listener ${i + 1}: ${seen.length} datagrams`,
    );
});

t.test('faults: drop, slow, reboot-loop, overheat', async (t) => {
  const tel = await listen(t);
  const rep = await listen(t);
  const dropped = await sim(t, { tel, rep, faults: ['drop=1'], intervalMs: 3_600_000 });
  for (let i = 0; i < 5; i++) dropped.sendTelemetry();
  t.equal(dropped.stats.sent, 0);
  t.ok(dropped.stats.dropped >= 5);

  const tel2 = await listen(t);
  const slow = await sim(t, { tel: tel2, rep, faults: ['slow=200'], intervalMs: 3_600_000 });
  await waitFor(() => tel2.messages.length >= 1, 'the start-up datagram', 5000);
  const before = Date.now();
  slow.sendTelemetry();
  await waitFor(() => tel2.messages.length >= 2, 'the slow datagram', 5000);
  t.ok(tel2.messages[1]!.at - before >= 200);

  const looping = await sim(t, { tel, rep, faults: ['reboot-loop=100'], intervalMs: 50 });
  await waitFor(() => looping.device.bootCount >= 2, 'reboots', 5000);
  t.pass('reboots in a loop');

  const clock = manualClock();
  const hot = await sim(t, { tel, rep, faults: ['overheat=1'], now: clock.now, intervalMs: 3_600_000 });
  const t0 = hot.device.telemetry().Temp as number;
  clock.advance(20_000);
  t.ok((hot.device.telemetry().Temp as number) > t0 + 15, 'temperature climbs');
  clock.advance(60_000);
  t.equal(hot.device.telemetry().HashRate, '0.00', 'hashing stops when too hot');
});

t.test('real process: mvm sim nmminer', async (t) => {
  const tel = await listen(t);
  const rep = await listen(t);
  const p = startMvm([
    'sim',
    'nmminer',
    '--listen',
    '127.0.0.1:0',
    '--telemetry',
    `127.0.0.1:${tel.port}`,
    '--report',
    `127.0.0.1:${rep.port}`,
    '--interval',
    '100',
  ]);
  const line = await p.waitForLine(/^mvm sim nmminer listening on 127\.0\.0\.1:\d+$/);
  const port = Number(line.split(':').pop());
  await waitFor(() => tel.messages.length >= 2, 'telemetry', 10_000);
  await push(port, { ...FULL, PrimaryPool: 'stratum+tcp://cli.pool:3333', PrimaryAddress: 'w' }, 3);
  await waitFor(
    () => rep.messages.find((m) => m.body.PrimaryPool === 'stratum+tcp://cli.pool:3333'),
    'the report',
    10_000,
  );
  t.equal(await p.stop(), 0);
  t.equal(await stopAllMvm(), 0);
});

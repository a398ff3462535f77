// The cgminer driver against the Avalon simulator (Nano 3 and 3S, with and without the malformed
// JSON quirks), and the transport against hand-made servers: NUL framing, one request at a time
// per device, and faults ending in typed failures within a bounded time.
import t, { type Test } from 'tap';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startCgminerSim, type CgminerSim, type CgminerSimOptions } from '../../sim/cgminer/index.js';
import { CgminerDriver } from '../../runner/drivers/cgminer/driver.js';
import { cgRequest } from '../../runner/drivers/cgminer/transport.js';
import { DriverError } from '../../runner/drivers/errors.js';
import { runMvm, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rejectsWith } from './support.js';

async function sim(t: Test, opts: CgminerSimOptions = {}): Promise<CgminerSim> {
  const s = await startCgminerSim({ rebootDelayMs: 50, bootMs: 300, ...opts });
  t.teardown(() => s.close());
  return s;
}

const driverFor = (address: string, options: Record<string, unknown> = {}) =>
  new CgminerDriver({ name: 'nano', driver: 'cgminer', address, options: { request_timeout_ms: 2000, ...options } });

for (const quirks of [false, true]) {
  t.test(`Nano 3S${quirks ? ' with malformed-JSON quirks' : ''}: info, telemetry, every control`, async (t) => {
    const s = await sim(t, { model: 'nano3s', quirks });
    const d = driverFor(s.address);
    const info = await d.info();
    t.equal(info.model, 'Avalon Nano 3S');
    t.equal(info.hardware, 'nano3s');
    t.equal(info.firmwareVersion, s.device.firmware);
    const tel = await d.telemetry();
    t.ok(tel.hashrateGhs! > 5000, `hashrate ${tel.hashrateGhs}`);
    t.ok(tel.expectedHashrateGhs! > 6000);
    t.ok(tel.powerW! > 100 && tel.powerW! < 200, `wall watts from PS[6]: ${tel.powerW}`);
    t.ok(tel.efficiencyJth! > 0);
    t.ok(tel.temperatures.chip_max > 0);
    t.equal(tel.fans[0].name, 'fan1');
    t.type(tel.sharesAccepted, 'number');
    t.type(tel.uptimeS, 'number');
    t.equal(tel.paused, false);

    const eco = await d.control({ op: 'mode', mode: 'eco' });
    t.same(eco.details, { key: 'workmode', level: 0, mode: 'low' }, 'eco is low on an Avalon');
    t.equal(s.device.level, 0);
    await d.control({ op: 'mode', mode: 'turbo' });
    t.equal(s.device.level, 2);
    await rejectsWith(t, d.control({ op: 'mode', mode: 'oc' }), 'unsupported');
    await d.control({ op: 'fan', percent: 60 });
    t.equal(s.device.fanSetting, 60);
    await rejectsWith(t, d.control({ op: 'fan', percent: 5 }), 'refused', /fan-spd/);
    await rejectsWith(t, d.control({ op: 'frequency', mhz: 500 }), 'unsupported');

    await d.control({ op: 'pause' });
    t.equal(s.device.softOff, true);
    t.equal((await d.telemetry()).paused, true);
    await d.control({ op: 'resume' });
    t.equal(s.device.softOff, false);

    const set = await d.control({
      op: 'pools-set',
      pools: [
        { url: 'stratum+tcp://pool.a.example:3333', user: 'wa', password: 'pa' },
        { url: 'pool.b.example:4444', user: 'wb' },
      ],
    });
    t.equal(set.needsRestart, true);
    t.equal(s.device.savedPools[0]?.url, 'stratum+tcp://pool.a.example:3333');
    t.equal(s.device.savedPools[1]?.user, 'wb');
    await rejectsWith(
      t,
      d.control({ op: 'pools-set', pools: [{ url: 'x.example:1', user: 'a,b' }] }),
      'invalid_argument',
    );
    await d.control({ op: 'pools-switch', index: 1 });
    await rejectsWith(t, d.control({ op: 'pools-switch', index: 7 }), 'invalid_argument');

    const before = s.device.power;
    t.equal(before, 'up');
    await d.control({ op: 'restart' });
    await waitFor(() => s.device.power === 'rebooting', 'the reboot to start', 5000, 10);
    await waitFor(() => s.device.power === 'up', 'the device to come back', 10_000, 20);
    t.equal(s.device.pools[0]?.url, 'stratum+tcp://pool.a.example:3333', 'saved pools in use after the reboot');
  });
}

t.test('setpool with wrong web credentials is refused', async (t) => {
  const s = await sim(t, { model: 'nano3s' });
  const d = driverFor(s.address, { web_password: 'wrong' });
  await rejectsWith(
    t,
    d.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://p.example:3333', user: 'w' }] }),
    'refused',
    /refused its web login \(admin\).*Pool set error/,
  );
});

t.test('Nano 3: worklevel, power unknown, plain-text protocol', async (t) => {
  const s = await sim(t, { model: 'nano3' });
  for (const plain of [false, true]) {
    const d = driverFor(s.address, { plain });
    t.equal((await d.info()).hardware, 'nano3');
    const tel = await d.telemetry();
    t.equal(tel.powerW, null, 'power unknown rather than a wrong number');
    t.equal(tel.efficiencyJth, null);
    t.ok(tel.hashrateGhs! > 0);
    const m = await d.control({ op: 'mode', mode: 'standard' });
    t.same(m.details, { key: 'worklevel', level: 1, mode: 'med' });
    t.equal(s.device.level, 1);
    await rejectsWith(t, d.control({ op: 'pause' }), 'unsupported', /no softoff/);
  }
});

t.test('faults: slow, drop, rebooting, gone — typed and bounded', async (t) => {
  const s = await sim(t, { model: 'nano3s', faults: ['slow=3000'] });
  const d = driverFor(s.address, { request_timeout_ms: 300 });
  let started = Date.now();
  await rejectsWith(t, d.telemetry(), 'timeout');
  t.ok(Date.now() - started < 2500, 'bounded by the request timeout');
  s.device.clearFault('slow');
  s.device.setFault('drop', 1);
  await rejectsWith(t, d.info(), 'unreachable', /closed the connection without a reply/);
  s.device.clearFault('drop');
  await d.control({ op: 'restart' });
  await waitFor(() => s.device.power === 'rebooting', 'the reboot', 5000, 10);
  await rejectsWith(t, d.telemetry(), 'unreachable');
  await s.close();
  started = Date.now();
  await rejectsWith(t, d.telemetry(), 'unreachable', /ECONNREFUSED/);
  t.ok(Date.now() - started < 2000);
});

/** A raw TCP server whose behaviour a test scripts. */
async function rawServer(t: Test, onConn: (s: Socket) => void): Promise<{ address: string; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

t.test('transport: replies split across chunks, NUL framing, never two requests at once per device', async (t) => {
  // Busy from a connection's arrival until its reply is complete: a second connection while busy
  // would be a parallel request.
  let busy = false;
  let overlaps = 0;
  let served = 0;
  const { address } = await rawServer(t, (s) => {
    if (busy) overlaps++;
    busy = true;
    s.once('data', () => {
      const reply = '{"STATUS":[{"STATUS":"S","Code":11,"Msg":"Summary"}],"SUMMARY":[{"Accepted":1,"x":inf}],"id":1}';
      // Two chunks, a NUL, then bytes that must be ignored; the socket stays open.
      s.write(reply.slice(0, 30));
      setTimeout(() => {
        busy = false;
        served++;
        s.write(reply.slice(30) + '\0garbage');
      }, 20);
      setTimeout(() => s.destroy(), 200);
    });
  });
  const replies = await Promise.all(
    Array.from({ length: 5 }, () => cgRequest('dev', address, 'summary', undefined, { timeoutMs: 2000 })),
  );
  t.equal(replies.length, 5);
  t.same((replies[0].SUMMARY as Array<Record<string, unknown>>)[0], { Accepted: 1, x: null });
  t.equal(served, 5);
  t.equal(overlaps, 0, 'one request at a time to a device');
});

t.test('transport: a reply that never ends times out; garbage is a bad reply', async (t) => {
  const silent = await rawServer(t, () => {});
  const started = Date.now();
  await rejectsWith(t, cgRequest('dev', silent.address, 'summary', undefined, { timeoutMs: 300 }), 'timeout');
  t.ok(Date.now() - started < 1500);
  const garbage = await rawServer(t, (s) => s.once('data', () => s.end('<html>nope</html>\0')));
  await rejectsWith(t, cgRequest('dev', garbage.address, 'summary', undefined, { timeoutMs: 1000 }), 'bad_reply');
  const ctl = new AbortController();
  const p = cgRequest('dev', silent.address, 'summary', undefined, { timeoutMs: 5000, signal: ctl.signal });
  ctl.abort();
  await t.rejects(p, { code: 'ABORTED' });
  t.throws(() => driverFor('http://host:1/'), { name: 'DriverError', reason: 'invalid_argument' });
});

t.test('faults: overheat and a reboot loop show as telemetry and typed failures', async (t) => {
  const hot = await sim(t, { model: 'nano3s', faults: ['overheat=60'] });
  const d = driverFor(hot.address);
  const tripped = await waitFor(
    async () => {
      const tel = await d.telemetry();
      return tel.temperatures.chip_max >= 100 && tel.hashrateGhs === 0 ? tel : undefined;
    },
    'overheat protection to stop hashing',
    10_000,
    100,
  );
  t.ok(tripped.temperatures.chip_max >= 100, `TMax ${tripped.temperatures.chip_max}`);

  const looping = await sim(t, { model: 'nano3s', faults: ['reboot-loop=200'], bootMs: 300 });
  const l = driverFor(looping.address, { request_timeout_ms: 500 });
  const failure = await waitFor(
    async () => {
      try {
        await l.telemetry({ timeoutMs: 1500 });
        return undefined;
      } catch (err) {
        return err as DriverError;
      }
    },
    'a reading during a reboot',
    10_000,
    50,
  );
  t.type(failure, DriverError);
  t.ok(['unreachable', 'timeout'].includes(failure.reason), failure.reason);
});

t.test("transport: one request at a time per device across processes; a dead owner's lock is taken over", async (t) => {
  let busy = false;
  let overlaps = 0;
  let served = 0;
  const version =
    '{"STATUS":[{"STATUS":"S","Code":22,"Msg":"CGMiner versions"}],"VERSION":[{"PROD":"Avalon Nano3s","MODEL":"Nano3s","CGVERSION":"25021401_x"}],"id":1}';
  const { address } = await rawServer(t, (s) => {
    if (busy) overlaps++;
    busy = true;
    s.once('data', () =>
      setTimeout(() => {
        busy = false;
        served++;
        s.end(version + '\0');
      }, 150),
    );
  });
  const locks = tempDir(t);
  const env = { MVM_LOG_LEVEL: 'warn', MVM_LOCK_DIR: locks, MVM_TESTBED: undefined };
  const runs = await Promise.all(
    Array.from({ length: 4 }, () =>
      runMvm(['runner', 'info', '--driver', 'cgminer', '--address', address, '--json'], { env }),
    ),
  );
  t.same(
    runs.map((r) => r.code),
    [0, 0, 0, 0],
    runs.map((r) => r.stderr).join('\n'),
  );
  t.equal(served, 4);
  t.equal(overlaps, 0, 'four processes, never two requests at once');

  // A lock left behind by a process that died is taken over at once.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const port = address.split(':')[1];
  writeFileSync(join(locks, `127.0.0.1_${port}.lock`), dead.stdout);
  process.env.MVM_LOCK_DIR = locks;
  t.teardown(() => {
    delete process.env.MVM_LOCK_DIR;
  });
  const started = Date.now();
  await cgRequest('dev', address, 'version', undefined, { timeoutMs: 5000 });
  t.ok(Date.now() - started < 2000, `no wait for a dead owner (${Date.now() - started} ms)`);
});

t.test('Avalon per model: reboot argument, firmware from VERSION, stats ID, setpool login', async (t) => {
  const nano3 = await sim(t, { model: 'nano3', rebootDelayMs: 50, bootMs: 100 });
  const d3 = driverFor(nano3.address);
  const info = await d3.info();
  t.equal(info.firmwareVersion, nano3.device.firmware, 'the Nano 3 names its build under VERSION');
  t.equal(info.hardware, 'nano3');
  await d3.control({ op: 'restart' });
  await waitFor(() => nano3.device.bootCount === 1, 'the Nano 3 to reboot on "0,reboot,all"', 10_000, 20);
  await rejectsWith(
    t,
    d3.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://p.example:3333', user: 'w' }] }),
    'unsupported',
    /hashed web password/,
  );
  const hashed = driverFor(nano3.address, { web_password_hash: nano3.device.webPass });
  await waitFor(() => nano3.device.power === 'up', 'the Nano 3 back', 10_000, 20);
  await hashed.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://p.example:3333', user: 'w' }] });
  t.equal(nano3.device.savedPools[0]?.url, 'stratum+tcp://p.example:3333');

  // The Nano 3's stats item is AVANANO0 (the 3S's AVALON0); the model read from telemetry agrees.
  const byId = driverFor(nano3.address, { plain: false });
  const tel = await byId.telemetry();
  t.equal((tel.raw as { model: string }).model, 'nano3');

  const s3 = await sim(t, { model: 'nano3s' });
  const d = driverFor(s3.address);
  await d.control({ op: 'pools-priority', order: [1, 0] });
  t.equal(s3.device.current, 1, 'pool 1 tried first');
  await rejectsWith(t, d.control({ op: 'pools-priority', order: [5] }), 'invalid_argument');
});

t.test('a 3S build without softoff: pause is unsupported, said so; softon without a reply is read back', async (t) => {
  const s = await sim(t, { model: 'nano3s', noSoftoff: true });
  await rejectsWith(t, driverFor(s.address).control({ op: 'pause' }), 'unsupported', /no softoff/);
  const silent = await sim(t, { model: 'nano3s', softonSilent: true });
  const d = driverFor(silent.address);
  await d.control({ op: 'pause' });
  t.equal(silent.device.softOff, true);
  const r = await d.control({ op: 'resume' });
  t.match(r.message, /no reply, but the device reads back as running/);
  t.equal(silent.device.softOff, false);
});

// The nmminer driver against the NMMiner simulator over loopback UDP: telemetry in both key cases,
// offline detection, a config push confirmed by the device's report, and typed failures.
import t, { type Test } from 'tap';
import { startNmminerSim, type NmminerSim, type NmminerSimOptions } from '../../sim/nmminer/index.js';
import { NmminerDriver } from '../../runner/drivers/nmminer/driver.js';
import { DriverError } from '../../runner/drivers/errors.js';
import { freePort, rejectsWith } from './support.js';

interface Bench {
  sim: NmminerSim;
  driver: NmminerDriver;
  stop: () => Promise<void>;
}

async function bench(
  t: Test,
  simOpts: NmminerSimOptions = {},
  driverOpts: Record<string, unknown> = {},
): Promise<Bench> {
  const telemetryPort = await freePort();
  const reportPort = await freePort();
  const sim = await startNmminerSim({
    listen: '127.0.0.1:0',
    telemetry: `127.0.0.1:${telemetryPort}`,
    report: `127.0.0.1:${reportPort}`,
    intervalMs: 100,
    bootMs: 150,
    ...simOpts,
  });
  // The simulator's close() may be called once: tests that stop it early use stop().
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= sim.close());
  t.teardown(stop);
  const d = new NmminerDriver({
    name: 'lotto',
    driver: 'nmminer',
    address: sim.address,
    options: {
      listen_address: '127.0.0.1',
      telemetry_port: telemetryPort,
      config_report_port: reportPort,
      offline_after_ms: 1500,
      push_interval_ms: 20,
      confirm_timeout_ms: 3000,
      report_timeout_ms: 3000,
      wifi_password: 'password1',
      ...driverOpts,
    },
  });
  t.teardown(() => d.close());
  return { sim, driver: d, stop };
}

for (const keyCase of ['upper', 'lower'] as const) {
  t.test(`telemetry and info (${keyCase}-case keys)`, async (t) => {
    const { driver } = await bench(t, { keyCase });
    const tel = await driver.telemetry();
    t.equal(tel.driver, 'nmminer');
    t.ok(tel.hashrateGhs! > 0 && tel.hashrateGhs! < 0.01, `SI string hashrate in GH/s: ${tel.hashrateGhs}`);
    t.equal(tel.powerW, null);
    t.type(tel.sharesAccepted, 'number');
    t.type(tel.uptimeS, 'number');
    t.ok(tel.temperatures.chip > 0);
    t.equal(tel.firmwareVersion, keyCase === 'upper' ? 'v0.3.01' : 'v1.0.2');
    const info = await driver.info();
    t.match(info.model, /^NMMiner/);
    t.ok(info.hardware);
  });
}

t.test('pools set: pushed repeatedly, confirmed by the config report', async (t) => {
  const { sim, driver } = await bench(t);
  await driver.telemetry();
  const r = await driver.control({
    op: 'pools-set',
    pools: [
      { url: 'stratum+tcp://lotto.example:3333', user: 'bc1qexample', password: 'd=0.001' },
      { url: 'stratum+tcp://backup.example:4444', user: 'bc1qbackup' },
    ],
  });
  t.match(r.message, /pushed 10× and confirmed/);
  t.equal(sim.device.config.PrimaryPool, 'stratum+tcp://lotto.example:3333');
  t.equal(sim.device.config.PrimaryAddress, 'bc1qexample');
  t.equal(sim.device.config.SecondaryPool, 'stratum+tcp://backup.example:4444');
});

t.test('pools set never blanks what it does not mean to change; refuses without the Wi-Fi password', async (t) => {
  const { sim, driver } = await bench(t, {}, { wifi_password: undefined });
  sim.device.config.Timezone = 9;
  sim.device.config.WiFiSSID = 'bench-wifi';
  const before = { ...sim.device.config };
  await rejectsWith(
    t,
    driver.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://lotto.example:3333', user: 'w' }] }),
    'refused',
    /without WiFiPWD.*drops off the network/,
  );
  t.same(sim.device.config, before, 'nothing pushed');

  const { sim: s2, driver: d2 } = await bench(t);
  s2.device.config.Timezone = 9;
  s2.device.config.WiFiSSID = 'bench-wifi';
  await d2.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://lotto.example:3333', user: 'w' }] });
  t.match(
    s2.device.config,
    {
      PrimaryPool: 'stratum+tcp://lotto.example:3333',
      PrimaryAddress: 'w',
      WiFiSSID: 'bench-wifi',
      WiFiPWD: 'password1',
      Timezone: 9,
      SecondaryPool: 'stratum+tcp://solo.ckpool.org:3333',
    },
    'only the pool changed',
  );
});

t.test('NMAxe datagrams: ip, unit-suffixed hash rate, 3-part Share, session\\rever Uptime', async (t) => {
  const { driver } = await bench(t, { keyCase: 'nmaxe' });
  const tel = await driver.telemetry();
  const raw = tel.raw as Record<string, string>;
  t.ok('ip' in raw && !('IP' in raw));
  t.match(raw.HashRate, /^\d+\.\d{4}[KM]H\/s$/, 'the unit carried (it drifts around 1 MH/s)');
  t.match(raw.Share, /^\d+\/\d+\/\d+\.\d+%$/);
  t.match(raw.Uptime, /\r/);
  t.ok(tel.hashrateGhs! > 0.0009 && tel.hashrateGhs! < 0.0012, `1.0154MH/s as GH/s: ${tel.hashrateGhs}`);
  t.type(tel.sharesAccepted, 'number', 'the 3-part Share parsed');
  t.ok(tel.uptimeS! < 86400, `the session uptime, not the lifetime one: ${tel.uptimeS}`);
  t.equal((await driver.info()).hardware, 'NMAxe');
});

t.test('config pushes go to the subnet broadcast, as the real tool sends them', async (t) => {
  const spec = (options: Record<string, unknown> = {}) =>
    new NmminerDriver({ name: 'n', driver: 'nmminer', address: '192.168.1.101', options });
  t.equal(spec().settings.configAddress, '192.168.1.255');
  t.equal(spec({ broadcast: false }).settings.configAddress, '192.168.1.101');
  t.equal(spec({ config_address: '10.0.0.255' }).settings.configAddress, '10.0.0.255');
});

t.test('unsupported operations and bad input are typed failures', async (t) => {
  const { driver } = await bench(t);
  await rejectsWith(t, driver.control({ op: 'restart' }), 'unsupported');
  await rejectsWith(t, driver.control({ op: 'mode', mode: 'eco' }), 'unsupported');
  await rejectsWith(t, driver.control({ op: 'pools-set', pools: [] }), 'invalid_argument');
  await rejectsWith(t, driver.control({ op: 'pools-set', pools: [{ url: 'nohost', user: 'u' }] }), 'invalid_argument');
  await rejectsWith(t, driver.flash(), 'unsupported', /serial/);
});

t.test('a silent device is offline after the threshold; a push nobody confirms times out', async (t) => {
  const { sim, driver } = await bench(t, { faults: ['drop=1'] }, { confirm_timeout_ms: 600, report_timeout_ms: 600 });
  let started = Date.now();
  await rejectsWith(t, driver.telemetry(), 'unreachable', /offline: no telemetry/);
  t.ok(Date.now() - started < 4000, `bounded (${Date.now() - started} ms)`);
  started = Date.now();
  await rejectsWith(
    t,
    driver.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://x.example:1', user: 'u' }] }),
    'timeout',
    /no config report/,
  );
  t.ok(Date.now() - started < 4000);
  t.ok(sim.stats.dropped > 0);
});

t.test('a device that stops sending goes offline', async (t) => {
  const { driver, stop } = await bench(t);
  t.ok((await driver.telemetry()).online);
  await stop();
  // The last datagram is still fresh for a moment; then the device is offline.
  const started = Date.now();
  for (;;) {
    try {
      await driver.telemetry();
    } catch (err) {
      t.equal((err as DriverError).reason, 'unreachable');
      break;
    }
    if (Date.now() - started > 5000) {
      t.fail('never went offline');
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
});

t.test('drivers on the same telemetry port share one listener', async (t) => {
  const { sim, driver } = await bench(t);
  const second = new NmminerDriver({
    name: 'lotto-2',
    driver: 'nmminer',
    address: sim.address,
    options: { ...driver.device.options },
  });
  t.teardown(() => second.close());
  const [a, b] = await Promise.all([driver.telemetry(), second.telemetry()]);
  t.ok(a.online && b.online);
  await second.close();
  t.ok((await driver.telemetry()).online, 'the first driver keeps listening after the second lets go');
});

t.test('a slow or rebooting device: readings arrive late or the device is offline, never a hang', async (t) => {
  const { driver } = await bench(t, { faults: ['reboot-loop=300'], bootMs: 2000 }, { offline_after_ms: 800 });
  const started = Date.now();
  let offline: DriverError | undefined;
  while (!offline && Date.now() - started < 8000) {
    try {
      await driver.telemetry();
      await new Promise((r) => setTimeout(r, 100));
    } catch (err) {
      offline = err as DriverError;
    }
  }
  t.equal(offline?.reason, 'unreachable', 'a rebooting device goes offline');
  const slow = await bench(t, { faults: ['slow=300'] });
  t.ok((await slow.driver.telemetry()).online, 'late datagrams still count');
});

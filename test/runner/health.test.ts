// `mvm runner health` against simulators: a healthy Gamma passes; an unreachable address, the wrong
// firmware, overheating and a low hashrate each fail the check that sees it, with a summary a
// person reads; a device with no expected hashrate is not judged; an empty testbed passes.
import t, { type Test } from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkHealth, type HealthCheck, type HealthReport } from '../../runner/health.js';
import { healthLimits } from '../../runner/cli/health.js';
import { AxeosDriver } from '../../runner/drivers/axeos/driver.js';
import { startAxeosSim, type AxeosSim } from '../../sim/axeos/index.js';
import { startNmminerSim } from '../../sim/nmminer/index.js';
import { parseTestbed, type Testbed } from '../../runner/testbed.js';
import { runMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort, writeTestbed } from './support.js';

const env = { MVM_LOG_LEVEL: 'warn', MVM_TESTBED: undefined };
const QUICK = { windowMs: 400, samples: 3 };

async function gamma(t: Test, faults: string[] = []): Promise<AxeosSim> {
  const sim = await startAxeosSim({ board: '601', firmware: 'v2.15.0', faults });
  t.teardown(() => sim.close());
  return sim;
}

function bench(devices: unknown[], extra: Record<string, unknown> = {}): Testbed {
  return parseTestbed(JSON.stringify({ version: 1, testbed: 'bench-1', devices, ...extra }), 'testbed.json');
}

const axeos = (name: string, sim: AxeosSim | string, more: Record<string, unknown> = {}) => ({
  name,
  driver: 'axeos',
  address: typeof sim === 'string' ? sim : sim.url,
  options: { request_timeout_ms: 1000 },
  ...more,
});

const check = (r: HealthReport, device: string, name: HealthCheck['name']) =>
  r.devices.find((d) => d.device === device)?.checks.find((c) => c.name === name);

t.test('a healthy device passes every check', async (t) => {
  const sim = await gamma(t);
  const r = await checkHealth({
    testbed: bench([axeos('gamma', sim)], { baseline: 'esp-miner-2.15.0' }),
    limits: QUICK,
  });
  t.equal(r.ok, true, r.summary);
  t.same(
    r.devices[0].checks.map((c) => [c.name, c.ok]),
    [
      ['answers', true],
      ['firmware', true],
      ['hashrate', true],
      ['temperature', true],
      ['stable', true],
    ],
  );
  t.match(check(r, 'gamma', 'hashrate'), {
    message: /hashrate \d+ GH\/s is (9\d|1\d\d) % of the expected \d+ GH\/s \(at least 80 %\)/,
    measured: { samples: 3 },
  });
  t.equal(r.summary, 'bench-1: all 1 device(s) healthy');
});

t.test('unreachable, wrong firmware, overheating and low hashrate each fail their check', async (t) => {
  const healthyButOld = await gamma(t);
  const hot = await gamma(t, ['overheat=40']);
  const weak = await gamma(t, ['low-hashrate=0.34']);
  const gone = await gamma(t);
  await gone.close(); // nothing listens there now
  const started = Date.now();
  const r = await checkHealth({
    testbed: bench([
      axeos('old', healthyButOld, { software: 'v2.16.0' }),
      axeos('hot', hot),
      axeos('weak', weak),
      axeos('gone', gone.url),
    ]),
    limits: { windowMs: 1000, samples: 3 },
  });
  t.ok(Date.now() - started < 10_000, 'devices are checked in parallel, bounded');
  t.equal(r.ok, false);
  t.match(check(r, 'old', 'firmware'), { ok: false, message: 'runs v2.15.0, not its baseline v2.16.0' });
  t.equal(check(r, 'old', 'hashrate')?.ok, true);
  t.match(check(r, 'hot', 'temperature'), {
    ok: false,
    message: /highest temperature \d+(\.\d)? °C \(\w+\) is above 80 °C/,
  });
  t.match(check(r, 'weak', 'hashrate'), {
    ok: false,
    message: /hashrate \d+ GH\/s is [23]\d % of the expected \d+ GH\/s \(below 80 %\)/,
    measured: { percent: Number },
  });
  t.equal(check(r, 'weak', 'temperature')?.ok, true);
  const g = r.devices.find((d) => d.device === 'gone')!;
  t.same(
    g.checks.map((c) => c.name),
    ['answers'],
    'a device that does not answer is not sampled',
  );
  t.match(g.checks[0].message, /^does not answer: .*(ECONNREFUSED|unreachable|refused)/i);
  for (const d of ['old', 'hot', 'weak', 'gone']) t.match(r.summary, new RegExp(`(^|; )${d}: `), `summary names ${d}`);
  t.match(r.summary, /weak: hashrate \d+ GH\/s is [23]\d % of the expected \d+ GH\/s/);
});

t.test('a device in a reboot loop fails: its uptime goes back, readings fail', async (t) => {
  const sim = await gamma(t, ['reboot-loop=1500']);
  const r = await checkHealth({ testbed: bench([axeos('gamma', sim)]), limits: { windowMs: 6000, samples: 21 } });
  t.equal(r.ok, false, r.summary);
  t.match(check(r, 'gamma', 'stable'), {
    ok: false,
    message: /restarted \d+ time\(s\) during the check|telemetry readings failed/,
  });
  t.match(r.summary, /gamma: (restarted|\d+ of 21 telemetry readings failed)/);
});

t.test("a device's max_temperature replaces the global limit", async (t) => {
  const hot = await gamma(t, ['overheat=40']);
  const r = await checkHealth({
    testbed: bench([axeos('hot', hot, { max_temperature: 150 })]),
    limits: { windowMs: 500, samples: 1 },
  });
  t.match(check(r, 'hot', 'temperature'), { ok: true, message: /≤ 150 °C|150 °C/ });
});

t.test('no expected hashrate: not judged; expected_hashrate_ghs overrides what the device says', async (t) => {
  const telemetryPort = await freePort();
  const nm = await startNmminerSim({
    listen: '127.0.0.1:0',
    telemetry: `127.0.0.1:${telemetryPort}`,
    report: `127.0.0.1:${await freePort()}`,
    intervalMs: 100,
  });
  t.teardown(() => nm.close());
  const sim = await gamma(t);
  const r = await checkHealth({
    testbed: bench([
      {
        name: 'lotto',
        driver: 'nmminer',
        address: nm.address,
        options: { listen_address: '127.0.0.1', telemetry_port: telemetryPort, offline_after_ms: 1500 },
      },
      axeos('gamma', sim, { expected_hashrate_ghs: 5000 }),
    ]),
    limits: QUICK,
  });
  t.match(check(r, 'lotto', 'hashrate'), {
    ok: true,
    message: /not judged: no expected hashrate \(set expected_hashrate_ghs/,
  });
  t.match(check(r, 'gamma', 'hashrate'), { ok: false, message: /is 2\d % of the expected 5000 GH\/s/ });
});

t.test('command devices: answers through the tool, plus its health operation', async (t) => {
  const dir = tempDir(t);
  const tool = join(dir, 'sp-tool');
  writeFileSync(
    tool,
    `#!${process.execPath}\nconst op = process.argv[2];\nif (op === 'info') console.log('{"version":"sp-1.0"}');\nelse if (op === 'health') { console.error('rot: not responding'); process.exit(3); }\n`,
  );
  chmodSync(tool, 0o755);
  const r = await checkHealth({
    testbed: bench([
      { name: 'sp', driver: 'command', options: { path: tool, operations: { health: ['health', '{name}'] } } },
      { name: 'sp2', driver: 'command', options: { path: tool } },
    ]),
    limits: QUICK,
  });
  t.same(
    r.devices[0].checks.map((c) => [c.name, c.ok]),
    [
      ['answers', true],
      ['command', false],
    ],
  );
  t.match(r.devices[0].checks[1].message, /health command failed: health: .* exit 3: rot: not responding/);
  t.same(
    r.devices[1].checks.map((c) => [c.name, c.ok]),
    [['answers', true]],
  );
});

t.test('an abort ends a long health check at once, reported', async (t) => {
  const sim = await gamma(t);
  const ctl = new AbortController();
  let readings = 0;
  const started = Date.now();
  const r = await checkHealth({
    testbed: bench([axeos('gamma', sim)]),
    limits: { windowMs: 60_000, samples: 3 },
    signal: ctl.signal,
    driverFor: (d) => {
      const driver = new AxeosDriver(d);
      const telemetry = driver.telemetry.bind(driver);
      // Abort once sampling has begun, as SIGTERM would.
      driver.telemetry = async (opts) => {
        const tel = await telemetry(opts);
        if (++readings === 1) ctl.abort(new Error('received SIGTERM'));
        return tel;
      };
      return driver;
    },
  });
  t.ok(Date.now() - started < 5000, `ended at once (${Date.now() - started} ms), not after the 60 s window`);
  t.equal(r.ok, false);
  t.match(r.devices[0].checks, [{ name: 'answers', ok: false, message: /aborted: received SIGTERM/ }]);
});

t.test('flags: defaults, and bad values are usage errors', async (t) => {
  t.same(healthLimits({ json: false }), { windowMs: 15_000, samples: 3, hashrateTolerance: 0.2, maxTemperatureC: 80 });
  t.same(healthLimits({ json: false, window: '2m', samples: 5, 'hashrate-tolerance': 0.1, 'max-temperature': 70 }), {
    windowMs: 120_000,
    samples: 5,
    hashrateTolerance: 0.1,
    maxTemperatureC: 70,
  });
  t.throws(() => healthLimits({ json: false, window: 'soon' }), {
    code: 'USAGE',
    message: /--window: not a duration: "soon"/,
  });
  t.throws(() => healthLimits({ json: false, samples: 0 }), {
    code: 'USAGE',
    message: /--samples: expected a whole number from 1 to 1000/,
  });
  t.throws(() => healthLimits({ json: false, 'hashrate-tolerance': 1.5 }), {
    code: 'USAGE',
    message: /--hashrate-tolerance/,
  });
});

t.test('CLI: --json shape and exit codes (0 healthy, 1 unhealthy, 2 usage); an empty testbed passes', async (t) => {
  const sim = await gamma(t);
  const dir = tempDir(t);
  const file = writeTestbed(dir, {
    baseline: 'v2.15.0',
    devices: [axeos('gamma', sim), axeos('gone', 'http://127.0.0.1:1')],
  });
  const args = ['runner', 'health', '--testbed', file, '--window', '300ms', '--samples', '2'];
  const good = await runMvm([...args, '--device', 'gamma', '--json'], { env });
  t.equal(good.code, 0, good.stderr);
  const r = JSON.parse(good.stdout);
  t.same(Object.keys(r).sort(), ['devices', 'ok', 'summary', 'testbed']);
  t.match(r, {
    ok: true,
    testbed: 'bench-1',
    devices: [{ device: 'gamma', ok: true }],
    summary: 'bench-1: all 1 device(s) healthy',
  });
  for (const c of r.devices[0].checks)
    t.same(
      Object.keys(c)
        .filter((k) => k !== 'measured')
        .sort(),
      ['message', 'name', 'ok'],
    );

  const bad = await runMvm(args, { env });
  t.equal(bad.code, 1);
  t.match(bad.stdout, /^bench-1: UNHEALTHY: gone: does not answer/);
  t.match(bad.stdout, /gamma: ok[\s\S]*gone: FAILED\n\s+FAIL answers: does not answer/);

  const usage = await runMvm([...args, '--samples', 'x'], { env });
  t.equal(usage.code, 2);
  t.match(usage.stderr, /--samples: expected a whole number/);
  const ghost = await runMvm([...args, '--device', 'ghost', '--json'], { env });
  t.equal(ghost.code, 2);
  t.match(ghost.stderr, /no device "ghost"/);

  const empty = join(dir, 'empty.json');
  writeFileSync(empty, JSON.stringify({ version: 1, testbed: 'bare', devices: [] }));
  const none = await runMvm(['runner', 'health', '--testbed', empty, '--json'], { env });
  t.equal(none.code, 0, none.stderr);
  t.same(JSON.parse(none.stdout), {
    ok: true,
    testbed: 'bare',
    devices: [],
    summary: 'bare: no devices, nothing to check',
  });
});

t.test('no mvm process left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

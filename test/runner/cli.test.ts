// `mvm runner …` as job scripts call it: real processes (the compiled dist/) against simulators
// running in this test process, addressing devices through a testbed description or directly.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { startAxeosSim, type AxeosSim } from '../../sim/axeos/index.js';
import { startCgminerSim } from '../../sim/cgminer/index.js';
import { buildImage } from '../../runner/firmware/image.js';
import { runMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { gammaDevice, writeTestbed } from './support.js';

const env = { MVM_LOG_LEVEL: 'warn', MVM_TESTBED: undefined };

async function gammaBench(t: Test): Promise<{ sim: AxeosSim; dir: string; testbed: string }> {
  const sim = await startAxeosSim({ board: '601', rebootDelayMs: 50, bootMs: 300 });
  t.teardown(() => sim.close());
  const nano = await startCgminerSim({ model: 'nano3s' });
  t.teardown(() => nano.close());
  const dir = tempDir(t);
  const testbed = writeTestbed(dir, {
    instance: '01JTEST',
    target: 'bitaxe',
    baseline: 'v2.15.0',
    devices: [
      gammaDevice(sim.url, { attributes: ['fan:stock'] }),
      {
        name: 'nano',
        driver: 'cgminer',
        address: nano.address,
        hardware: 'nano3s',
        software: '25021401',
        attributes: [],
        options: {},
      },
    ],
  });
  return { sim, dir, testbed };
}

t.test('telemetry: direct address, JSON, and --watch with a count', async (t) => {
  const { sim } = await gammaBench(t);
  const one = await runMvm(['runner', 'telemetry', '--driver', 'axeos', '--address', sim.url, '--json'], { env });
  t.equal(one.code, 0, one.stderr);
  const tel = JSON.parse(one.stdout);
  t.equal(tel.driver, 'axeos');
  t.ok(tel.hashrateGhs > 0);
  const watch = await runMvm(
    [
      'runner',
      'telemetry',
      '--driver',
      'axeos',
      '--address',
      sim.url,
      '--watch',
      '--interval',
      '100ms',
      '--count',
      '3',
      '--json',
    ],
    { env },
  );
  t.equal(watch.code, 0, watch.stderr);
  t.equal(watch.stdout.trim().split('\n').length, 3);
  const human = await runMvm(['runner', 'telemetry', '--driver', 'axeos', '--address', sim.url], { env });
  t.match(human.stdout, /GH\/s .* W .* J\/TH .*chip .*shares .*v2\.15\.0/);
});

t.test('control and info through the testbed description', async (t) => {
  const { sim, testbed } = await gammaBench(t);
  const r = await runMvm(['runner', 'control', 'mode', 'eco', '--testbed', testbed, '--device', 'gamma'], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /gamma: eco on BM1370 \(Bitaxe Gamma\): 400 MHz, 1000 mV/);
  t.equal(sim.device.settings.frequency, 400);
  const pools = await runMvm(
    [
      'runner',
      'control',
      'pools',
      'set',
      '--url',
      'stratum+tcp://p1.example:3333',
      '--user',
      'w1',
      '--url',
      'stratum+tcp://p2.example:3334',
      '--user',
      'w2',
      '--device',
      'gamma',
      '--json',
    ],
    { env: { ...env, MVM_TESTBED: testbed } },
  );
  t.equal(pools.code, 0, pools.stderr);
  t.equal(JSON.parse(pools.stdout).needsRestart, true);
  t.equal(sim.device.settings.pools[1]?.stratumURL, 'p2.example');
  const info = await runMvm(['runner', 'info', '--testbed', testbed, '--device', 'nano', '--json'], { env });
  t.equal(info.code, 0, info.stderr);
  t.equal(JSON.parse(info.stdout).model, 'Avalon Nano 3S');
});

t.test('usage and configuration mistakes are clear, with the right exit status', async (t) => {
  const { testbed, dir } = await gammaBench(t);
  const which = await runMvm(['runner', 'info', '--testbed', testbed], { env });
  t.equal(which.code, 2);
  t.match(which.stderr, /has 2 devices: name one with --device\n\s+hint: devices: gamma, nano/);
  const ghost = await runMvm(['runner', 'info', '--testbed', testbed, '--device', 'ghost'], { env });
  t.equal(ghost.code, 1);
  t.match(ghost.stderr, /no device "ghost"/);
  const none = await runMvm(['runner', 'telemetry'], { env });
  t.equal(none.code, 2);
  t.match(none.stderr, /no device: give --testbed FILE/);
  const badAction = await runMvm(['runner', 'control', 'fan', '150', '--testbed', testbed, '--device', 'gamma'], {
    env,
  });
  t.equal(badAction.code, 2);
  t.match(badAction.stderr, /fan: 150 % is more than 100/);
  const broken = join(dir, 'broken.json');
  writeFileSync(
    broken,
    JSON.stringify({
      version: 2,
      devices: [
        { name: 'x', driver: 'telnet' },
        { driver: 'axeos', address: 'nope' },
      ],
    }),
  );
  const bad = await runMvm(['runner', 'info', '--testbed', broken], { env });
  t.equal(bad.code, 1);
  for (const re of [
    /version: unsupported version 2/,
    /testbed: missing\n.*hint: add `testbed: "…"`/,
    /devices\[0\]\.driver: unknown driver "telnet"/,
    /devices\[1\]\.name: missing/,
    /devices\[1\]\.address: not a URL/,
  ]) {
    t.match(bad.stderr, re);
  }
  const unreachable = await runMvm(['runner', 'telemetry', '--driver', 'cgminer', '--address', '127.0.0.1:1'], { env });
  t.equal(unreachable.code, 1);
  t.match(unreachable.stderr, /ECONNREFUSED[\s\S]*hint: check that the device is powered/);
});

t.test('flash: JSON-line progress with --json, verified; a wrong image refused before upload', async (t) => {
  const { sim, dir, testbed } = await gammaBench(t);
  const good = join(dir, 'esp-miner.bin');
  writeFileSync(good, buildImage({ version: 'v2.16.0', size: 300_000 }));
  const r = await runMvm(
    [
      'runner',
      'flash',
      '--image',
      good,
      '--testbed',
      testbed,
      '--device',
      'gamma',
      '--poll-interval',
      '100ms',
      '--settle',
      '1s',
      '--reboot-timeout',
      '10s',
      '--json',
    ],
    { env },
  );
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.ok(lines.filter((l) => l.event === 'progress' && l.phase === 'upload').length > 5, 'upload progress events');
  const result = lines[lines.length - 1];
  t.same(
    { event: result.event, ok: result.ok, version: result.version, partition: result.partition },
    { event: 'result', ok: true, version: 'v2.16.0', partition: 'ota_0' },
  );
  t.equal(sim.device.version, 'v2.16.0');

  const wrong = join(dir, 'other.bin');
  writeFileSync(wrong, buildImage({ version: 'v9.9.9', projectName: 'NerdMiner' }));
  const bootsBefore = sim.device.bootCount;
  const w = await runMvm(['runner', 'flash', '--image', wrong, '--testbed', testbed, '--device', 'gamma'], { env });
  t.equal(w.code, 1);
  t.match(w.stderr, /refusing to flash .*other\.bin: the image is for project "NerdMiner"/);
  t.match(w.stderr, /hint: use an image built for this device family; nothing was sent/);
  t.equal(w.stdout.trim(), '', 'no JSON lines without --json, even off a terminal');
  const wj = await runMvm(['runner', 'flash', '--image', wrong, '--testbed', testbed, '--device', 'gamma', '--json'], {
    env,
  });
  t.equal(wj.code, 1);
  const wr = JSON.parse(wj.stdout.trim().split('\n').pop()!);
  t.same({ ok: wr.ok, reason: wr.reason }, { ok: false, reason: 'image_rejected' });
  t.equal(sim.device.partitions.ota_1, null, 'nothing uploaded');
  t.equal(sim.device.bootCount, bootsBefore);

  const nano = await runMvm(['runner', 'flash', '--image', good, '--testbed', testbed, '--device', 'nano'], { env });
  t.equal(nano.code, 1);
  t.match(nano.stderr, /no firmware upload over the cgminer API/);
});

t.test('test: exit 0 when every check passes, 1 when one fails; JUnit readable', async (t) => {
  const { dir, testbed } = await gammaBench(t);
  const pass = join(dir, 'pass.yaml');
  writeFileSync(
    pass,
    'script: ["node", "-e", "process.exit(0)"]\ndevices: [{hardware: "601", attributes: ["fan:stock"]}]\nchecks:\n  - {type: hashrate, min_percent: 80, window: 300ms}\n',
  );
  const out = join(dir, 'out-pass');
  const ok = await runMvm(
    ['runner', 'test', '--spec', pass, '--testbed', testbed, '--output', out, '--poll', '100ms'],
    {
      env,
    },
  );
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /test pass: PASSED/);
  const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
    readFileSync(join(out, 'junit.xml'), 'utf8'),
  ).testsuites.testsuite;
  t.equal(suite.failures, '0');

  const fail = join(dir, 'fail.json');
  writeFileSync(
    fail,
    JSON.stringify({ devices: [{ hardware: 'nano3s' }], checks: [{ type: 'temperature', max: 1, window: '200ms' }] }),
  );
  const bad = await runMvm(['runner', 'test', '--spec', fail, '--testbed', testbed, '--poll', '100ms'], {
    env: { ...env, MVM_OUTPUT_DIR: join(dir, 'out-fail') },
  });
  t.equal(bad.code, 1);
  t.match(bad.stdout, /FAIL temperature \[nano\]/);
  t.equal(JSON.parse(readFileSync(join(dir, 'out-fail', 'results.json'), 'utf8')).ok, false);

  const invalid = join(dir, 'invalid.json');
  writeFileSync(invalid, JSON.stringify({ devices: [], checks: [{ type: 'hashrate' }] }));
  const inv = await runMvm(['runner', 'test', '--spec', invalid, '--testbed', testbed], { env });
  t.equal(inv.code, 1);
  t.match(inv.stderr, /devices: must not be empty\n.*hint: give at least one device/);
  t.match(inv.stderr, /checks\[0\]\.min_percent: missing/);
});

t.test('no mvm process left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

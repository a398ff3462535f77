// Test definitions: validation that reports every problem, device assignment, checks judged on
// telemetry from simulators, results as JSON and JUnit XML that a JUnit parser reads.
import t from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { ConfigError, MvmError } from '../../shared/errors.js';
import { startAxeosSim } from '../../sim/axeos/index.js';
import { startCgminerSim } from '../../sim/cgminer/index.js';
import { assignDevices, normaliseSoftware } from '../../runner/device-tests/assign.js';
import { junitXml } from '../../runner/device-tests/junit.js';
import { runTest } from '../../runner/device-tests/run.js';
import { loadSpec, validateSpec } from '../../runner/device-tests/spec.js';
import type { DeviceSpec } from '../../runner/drivers/types.js';
import { tempDir } from '../helpers/tmp.js';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });

t.test('the seed example validates', async (t) => {
  const spec = validateSpec(
    { script: 'basic_.py', devices: [{ hardware: '401', software: 'esp-miner-2.6.0', attributes: [] }] },
    'seed.json',
  );
  t.equal(spec.devices[0].name, 'device0');
  t.equal(spec.devices[0].hardware, '401');
  t.equal(spec.script, 'basic_.py');
  t.same(spec.checks, []);
});

t.test('validation reports every problem at once, located', async (t) => {
  const err = t.throws(() =>
    validateSpec(
      {
        scrip: 'x.py',
        timeout: 'forever',
        devices: [{ hardware: 601, attributes: 'fan' }, { name: 'bad name!' }],
        checks: [
          { type: 'hashrate', window: '10s' },
          { type: 'nope' },
          { type: 'temperature', max: 70, device: 'ghost' },
          { type: 'rejected_ratio', max: 2, windw: '1s' },
        ],
      },
      'spec.yaml',
    ),
  ) as unknown as ConfigError;
  t.type(err, ConfigError);
  const keys = err.problems.map((p) => p.key);
  for (const k of [
    'scrip',
    'timeout',
    'devices[0].attributes',
    'devices[1].name',
    'checks[0].min_percent',
    'checks[1].type',
    'checks[2].device',
    'checks[3].max',
    'checks[3].windw',
  ]) {
    t.ok(keys.includes(k), `reports ${k}`);
  }
  t.match(err.message, /spec\.yaml: checks\[1\]\.type: unknown check "nope"/);
  t.throws(() => validateSpec({ devices: [{}] }, 'x.json'), /needs a script, checks, or both/);
  t.throws(() => validateSpec([], 'x.json'), ConfigError);
});

t.test('YAML and JSON files load; unreadable and malformed files are clear errors', async (t) => {
  const dir = tempDir(t);
  const yamlFile = join(dir, 'smoke.yaml');
  writeFileSync(
    yamlFile,
    'script: ["true"]\ndevices:\n  - hardware: "601"\nchecks:\n  - type: temperature\n    max: 80\n    window: 500ms\npoll: 100ms\n',
  );
  const spec = loadSpec(yamlFile);
  t.equal(spec.name, 'smoke');
  t.equal(spec.pollMs, 100);
  t.equal(spec.checks[0].type, 'temperature');
  writeFileSync(join(dir, 'bad.json'), '{"script": ');
  t.throws(() => loadSpec(join(dir, 'bad.json')), /not valid JSON/);
  t.throws(() => loadSpec(join(dir, 'missing.yaml')), /cannot read the test definition/);
});

t.test('assignment: hardware and attributes match, each device once', async (t) => {
  const bed: DeviceSpec[] = [
    { name: 'a', driver: 'axeos', address: 'http://127.0.0.1:1', hardware: '601', attributes: ['fan:stock'] },
    {
      name: 'b',
      driver: 'axeos',
      address: 'http://127.0.0.1:2',
      hardware: '601',
      attributes: ['fan:stock', 'psu:lab'],
      software: 'v2.9.0',
    },
    { name: 'c', driver: 'cgminer', address: '127.0.0.1:3', hardware: 'nano3s', attributes: [] },
  ];
  const two = assignDevices(
    [
      { name: 'x', hardware: '601', attributes: ['psu:lab'], software: 'esp-miner-2.6.0' },
      { name: 'y', hardware: '601', attributes: [] },
    ],
    bed,
  );
  t.same(
    two.map((a) => a.device.name),
    ['b', 'a'],
    'backtracks so each spec device gets its own',
  );
  t.match(two[0].softwareNote, /asks for software esp-miner-2\.6\.0/);
  t.equal(normaliseSoftware('esp-miner-2.9.0'), normaliseSoftware('v2.9.0'));
  t.throws(() => assignDevices([{ name: 'x', hardware: '401', attributes: [] }], bed), {
    code: 'CONFIG_INVALID',
    message: /matches no testbed device/,
  });
  t.throws(
    () =>
      assignDevices(
        [
          { name: 'x', hardware: 'nano3s', attributes: [] },
          { name: 'y', hardware: 'nano3s', attributes: [] },
        ],
        bed,
      ),
    /cannot cover all of them/,
  );
});

t.test('JUnit XML escapes and parses', async (t) => {
  const text = junitXml({
    name: 'suite <&> "q"',
    timestamp: '2026-11-23T00:00:00Z',
    timeMs: 1500,
    cases: [
      { classname: 'c', name: 'passes', timeMs: 10, systemOut: 'fine' },
      {
        classname: 'c',
        name: 'fails',
        timeMs: 20,
        failure: { message: 'too hot: 90 °C > 70 °C', body: 'x\u0001y <tag>' },
      },
    ],
  });
  const doc = xml.parse(text);
  const suite = doc.testsuites.testsuite;
  t.equal(suite.name, 'suite <&> "q"');
  t.equal(suite.tests, '2');
  t.equal(suite.failures, '1');
  t.equal(suite.testcase[1].failure.message, 'too hot: 90 °C > 70 °C');
  t.equal(suite.testcase[1].failure['#text'], 'xy <tag>');
});

t.test('a definition with a script and checks runs against simulators and writes JSON + JUnit', async (t) => {
  const gamma = await startAxeosSim({ board: '601', rebootDelayMs: 50, bootMs: 300 });
  t.teardown(() => gamma.close());
  const nano = await startCgminerSim({ model: 'nano3s' });
  t.teardown(() => nano.close());
  // A low pool difficulty so shares arrive within a sub-second window.
  gamma.device.settings.pools[0]!.stratumSuggestedDifficulty = 1;
  const dir = tempDir(t);
  const script = join(dir, 'check-env.js');
  writeFileSync(
    script,
    [
      "const fs = require('node:fs');",
      "const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MVM_')));",
      "fs.writeFileSync(process.env.MVM_TEST_OUTPUT_DIR + '/seen-env.json', JSON.stringify(env));",
      "console.log('miner at', process.env.MVM_DEVICE_MINER_ADDRESS);",
      "process.exit(process.env.MVM_DEVICE_COUNT === '2' ? 0 : 3);",
    ].join('\n'),
  );
  const specFile = join(dir, 'spec.json');
  writeFileSync(
    specFile,
    JSON.stringify({
      name: 'gamma-smoke',
      script: 'check-env.js',
      devices: [
        { name: 'miner', hardware: '601', software: 'v2.15.0', attributes: ['fan:stock'] },
        { name: 'nano', hardware: 'nano3s', attributes: [] },
      ],
      checks: [
        { type: 'hashrate', min_percent: 80, window: '800ms' },
        { type: 'temperature', max: 110, window: '500ms' },
        { type: 'shares_increase', device: 'miner', min: 1, window: '800ms' },
        { type: 'rejected_ratio', max: 0.05, window: '300ms' },
        { type: 'survives_restart', device: 'miner', timeout: '10s' },
      ],
      poll: '100ms',
    }),
  );
  const out = join(dir, 'out');
  const devices: DeviceSpec[] = [
    {
      name: 'gamma',
      driver: 'axeos',
      address: gamma.url,
      hardware: '601',
      software: 'v2.15.0',
      attributes: ['fan:stock'],
      options: { request_timeout_ms: 1000 },
    },
    { name: 'nano-1', driver: 'cgminer', address: nano.address, hardware: 'nano3s', attributes: [] },
  ];
  const report = await runTest({ spec: loadSpec(specFile), devices, outputDir: out, echo: null });
  t.ok(report.ok, JSON.stringify(report.checks.filter((c) => !c.ok)));
  t.equal(report.script?.exitCode, 0);
  t.equal(report.checks.length, 2 + 2 + 1 + 2 + 1);
  const env = JSON.parse(readFileSync(join(out, 'seen-env.json'), 'utf8'));
  t.equal(env.MVM_DEVICE_MINER_ADDRESS, gamma.url);
  t.equal(env.MVM_DEVICE_1_DRIVER, 'cgminer');
  t.equal(JSON.parse(env.MVM_DEVICES_JSON).length, 2);
  t.match(readFileSync(join(out, 'script.log'), 'utf8'), /miner at http:\/\/127\.0\.0\.1/);

  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  t.equal(results.ok, true);
  const suite = xml.parse(readFileSync(join(out, 'junit.xml'), 'utf8')).testsuites.testsuite;
  t.equal(report.preparation.length, 1, 'the miner spec names software: one preparation step');
  t.equal(suite.tests, String(1 + 1 + report.checks.length));
  t.equal(suite.failures, '0');
  t.equal(suite.testcase[0].name, 'prepare gamma');
  t.match(suite.testcase[1].name, /^script /);
});

t.test('failing checks and a failing script fail the test, with reasons in JUnit', async (t) => {
  const hot = await startAxeosSim({ board: '601', faults: ['overheat=40'] });
  t.teardown(() => hot.close());
  const dir = tempDir(t);
  const script = join(dir, 'fail.sh');
  writeFileSync(script, '#!/bin/sh\necho "about to fail" >&2\nexit 4\n');
  chmodSync(script, 0o755);
  const specFile = join(dir, 'spec.yaml');
  writeFileSync(
    specFile,
    [
      'script: fail.sh',
      'devices: [{hardware: "601"}]',
      'checks:',
      '  - {type: temperature, max: 45, window: 1s}',
      '  - {type: hashrate, min_percent: 200, window: 200ms}',
      'poll: 100ms',
    ].join('\n'),
  );
  const out = join(dir, 'out');
  const report = await runTest({
    spec: loadSpec(specFile),
    devices: [{ name: 'hot', driver: 'axeos', address: hot.url, hardware: '601', attributes: [] }],
    outputDir: out,
    echo: null,
  });
  t.equal(report.ok, false);
  t.equal(report.script?.exitCode, 4);
  t.match(report.script?.message, /exit 4/);
  const temp = report.checks.find((c) => c.type === 'temperature')!;
  t.equal(temp.ok, false);
  t.match(temp.message, /> 45 °C/);
  t.equal(report.checks.find((c) => c.type === 'hashrate')!.ok, false);
  const suite = xml.parse(readFileSync(join(out, 'junit.xml'), 'utf8')).testsuites.testsuite;
  t.equal(suite.failures, '3');
  t.match(suite.testcase[0].failure['#text'], /about to fail/);
});

t.test('a device that does not come back fails survives_restart within its timeout', async (t) => {
  const s = await startAxeosSim({ board: '601', rebootDelayMs: 20, bootMs: 60_000 });
  t.teardown(() => s.close());
  const dir = tempDir(t);
  const spec = validateSpec(
    { devices: [{ hardware: '601' }], checks: [{ type: 'survives_restart', timeout: '1500ms' }], poll: '100ms' },
    join(dir, 's.json'),
  );
  const started = Date.now();
  const report = await runTest({
    spec,
    devices: [{ name: 'g', driver: 'axeos', address: s.url, hardware: '601', options: { request_timeout_ms: 300 } }],
    outputDir: join(dir, 'o'),
    echo: null,
  });
  t.equal(report.ok, false);
  t.match(report.checks[0].message, /did not come back within 1500 ms/);
  t.ok(Date.now() - started < 6000, 'bounded by the check timeout');
});

t.test('a script string that is not a file is refused clearly (never run through a shell)', async (t) => {
  const s = await startAxeosSim({ board: '601' });
  t.teardown(() => s.close());
  const dir = tempDir(t);
  const spec = validateSpec({ script: 'echo hi && rm -rf /', devices: [{ hardware: '601' }] }, join(dir, 's.json'));
  const report = await runTest({
    spec,
    devices: [{ name: 'g', driver: 'axeos', address: s.url, hardware: '601' }],
    outputDir: join(dir, 'o'),
    echo: null,
  });
  t.equal(report.ok, false);
  t.match(report.script?.message, /no such file/);
  t.ok(MvmError);
});

t.test('a run that breaks still writes failed results; an abort ends the run promptly', async (t) => {
  const dir = tempDir(t);
  const spec = validateSpec(
    { devices: [{ hardware: 'sp' }], checks: [{ type: 'temperature', max: 50, window: '10s' }], poll: '100ms' },
    join(dir, 's.json'),
  );
  await t.rejects(
    runTest({
      spec,
      devices: [{ name: 'sp', driver: 'command', address: '', hardware: 'sp', options: {} }],
      outputDir: join(dir, 'broken'),
      echo: null,
    }),
    { name: 'DriverError', reason: 'invalid_argument' },
  );
  const broken = JSON.parse(readFileSync(join(dir, 'broken', 'results.json'), 'utf8'));
  t.equal(broken.ok, false);
  t.match(broken.error, /needs options\.path/);
  t.equal(xml.parse(readFileSync(join(dir, 'broken', 'junit.xml'), 'utf8')).testsuites.testsuite.errors, '1');

  const s = await startAxeosSim({ board: '601' });
  t.teardown(() => s.close());
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(new Error('job cancelled')), 300);
  const started = Date.now();
  const spec2 = validateSpec(
    { devices: [{ hardware: '601' }], checks: [{ type: 'temperature', max: 90, window: '30s' }], poll: '100ms' },
    join(dir, 's2.json'),
  );
  const report = await runTest({
    spec: spec2,
    devices: [{ name: 'g', driver: 'axeos', address: s.url, hardware: '601' }],
    outputDir: join(dir, 'aborted'),
    echo: null,
    signal: ctl.signal,
  });
  t.equal(report.ok, false);
  t.match(report.error, /aborted: job cancelled/);
  t.ok(Date.now() - started < 5000, 'stops at once, not after the 30 s window');
});

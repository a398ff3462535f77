// The infrastructure-failure report beside the testbed description: written when a runner command
// fails because a device from the description is unreachable (and not for --driver/--address, nor
// for failures that are not the testbed's fault); a report that cannot be written hides nothing;
// in `mvm runner test`, a device that stopped answering counts and a low hashrate does not.
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../runner/firmware/image.js';
import { infraReportPath, readInfraReport } from '../../runner/infra-report.js';
import { startAxeosSim } from '../../sim/axeos/index.js';
import { runMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTestbed } from './support.js';

const env = { MVM_LOG_LEVEL: 'warn', MVM_TESTBED: undefined };
const DEAD = 'http://127.0.0.1:1';

t.test('readInfraReport tolerates a torn last line; the path is beside the description', async (t) => {
  const line = (device: string) =>
    JSON.stringify({ at: '2026-01-01T00:00:00.000Z', command: 'flash', device, reason: 'unreachable', message: 'x' });
  t.same(
    readInfraReport(`${line('a')}\n${line('b')}\n{"at":"2026-01-01T00:0`).map((e) => e.device),
    ['a', 'b'],
  );
  t.same(readInfraReport(''), []);
  t.equal(infraReportPath('/lab/agent-1/testbed.json'), '/lab/agent-1/infra-failures.jsonl');
});

t.test('telemetry against a dead device: reported from a testbed file, not for --driver/--address', async (t) => {
  const dir = tempDir(t);
  const testbed = writeTestbed(dir, {
    devices: [{ name: 'gamma', driver: 'axeos', address: DEAD, options: { request_timeout_ms: 500 } }],
  });
  const report = join(dir, 'infra-failures.jsonl');

  const r = await runMvm(['runner', 'telemetry', '--testbed', testbed], { env });
  t.equal(r.code, 1);
  t.match(r.stderr, /mvm: error: gamma: /, 'the original error is what the user sees');
  const entries = readInfraReport(readFileSync(report, 'utf8'));
  t.equal(entries.length, 1);
  t.match(entries[0], { command: 'telemetry', device: 'gamma', reason: 'unreachable', message: /^gamma: / });
  t.ok(!Number.isNaN(Date.parse(entries[0].at)), 'at is an ISO time');

  // Direct addressing has no testbed description, even with MVM_TESTBED set.
  const direct = await runMvm(['runner', 'telemetry', '--driver', 'axeos', '--address', DEAD], {
    env: { ...env, MVM_TESTBED: testbed },
  });
  t.equal(direct.code, 1);
  t.equal(readInfraReport(readFileSync(report, 'utf8')).length, 1, 'no line for --driver/--address');
});

t.test(
  "failures that are not the testbed's fault are not reported; a report that cannot be written hides nothing",
  async (t) => {
    const sim = await startAxeosSim({ board: '601' });
    t.teardown(() => sim.close());
    const dir = tempDir(t);
    const testbed = writeTestbed(dir, {
      devices: [
        { name: 'gamma', driver: 'axeos', address: sim.url, options: { request_timeout_ms: 1000 } },
        { name: 'dead', driver: 'axeos', address: DEAD, options: { request_timeout_ms: 500 } },
      ],
    });
    const wrong = join(dir, 'nerd.bin');
    writeFileSync(wrong, buildImage({ version: 'v1.0.0', projectName: 'NerdMiner' }));
    const rejected = await runMvm(['runner', 'flash', '--image', wrong, '--testbed', testbed, '--device', 'gamma'], {
      env,
    });
    t.equal(rejected.code, 1);
    t.match(rejected.stderr, /refusing to flash/);
    t.notOk(existsSync(join(dir, 'infra-failures.jsonl')), 'a rejected image is not an infrastructure failure');

    mkdirSync(join(dir, 'infra-failures.jsonl')); // cannot be appended to
    const info = await runMvm(['runner', 'info', '--testbed', testbed, '--device', 'dead'], { env });
    t.equal(info.code, 1);
    t.match(info.stderr, /warning: could not write the infrastructure-failure report/);
    t.match(info.stderr, /mvm: error: dead: /, 'the original error still reported');
  },
);

t.test('mvm runner test: a device that stops answering is reported, a low hashrate is not', async (t) => {
  const weak = await startAxeosSim({ board: '601', faults: ['low-hashrate=0.3'] });
  t.teardown(() => weak.close());
  const dir = tempDir(t);
  const testbed = writeTestbed(dir, {
    devices: [
      { name: 'weak', driver: 'axeos', address: weak.url, hardware: '601', options: { request_timeout_ms: 1000 } },
      { name: 'dead', driver: 'axeos', address: DEAD, hardware: '602', options: { request_timeout_ms: 300 } },
    ],
  });
  const spec = join(dir, 'spec.yaml');
  writeFileSync(
    spec,
    [
      'devices: [{name: a, hardware: "601"}, {name: b, hardware: "602"}]',
      'checks:',
      '  - {type: hashrate, min_percent: 90, window: 300ms, device: a}',
      '  - {type: temperature, max: 90, window: 300ms, device: b}',
      'poll: 100ms',
    ].join('\n'),
  );
  const r = await runMvm(['runner', 'test', '--spec', spec, '--testbed', testbed, '--output', join(dir, 'out')], {
    env,
  });
  t.equal(r.code, 1);
  t.match(r.stdout, /FAIL hashrate \(a\) \[weak\]: mean .* is [1-4]\d(\.\d)? % of expected/);
  t.match(r.stdout, /FAIL temperature \(b\) \[dead\]: no telemetry in the window/);
  const entries = readInfraReport(readFileSync(join(dir, 'infra-failures.jsonl'), 'utf8'));
  t.same(
    entries.map((e) => [e.command, e.device, e.reason]),
    [['test', 'dead', 'unreachable']],
  );
  t.match(entries[0].message, /^temperature \(b\): no telemetry in the window/);
});

t.test('no mvm process left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

// The whole path with real processes only: `mvm sim axeos` serving a Gamma, `mvm runner` flashing
// a bricking image (recovered over the simulated serial line), then a good one, then running a
// test definition — as a job script on a bench would.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { buildImage } from '../../runner/firmware/image.js';
import { runMvm, stopAllMvm, mvmBin } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { gammaDevice, writeTestbed } from './support.js';
import { startAxeosSimProcess } from '../helpers/axeos-sim-process.js';

const env = { MVM_LOG_LEVEL: 'warn', MVM_TESTBED: undefined };

t.test('sim process + runner processes: brick recovered, flash verified, test passes', async (t) => {
  const { url } = await startAxeosSimProcess(t, { bootMs: 300, env });

  const dir = tempDir(t);
  const factory = join(dir, 'factory-v2.15.0.bin');
  writeFileSync(factory, buildImage({ version: 'v2.15.0' }));
  const testbed = writeTestbed(dir, {
    testbed: 'bench-e2e',
    devices: [
      gammaDevice(url, {
        attributes: ['fan:stock'],
        options: {
          poll_interval_ms: 150,
          reboot_timeout_ms: 3000,
          settle_ms: 1000,
          recovery_argv: [
            process.execPath,
            mvmBin(),
            'sim',
            'serial-flash',
            '--address',
            '{address}',
            '--image',
            factory,
          ],
        },
      }),
    ],
  });
  const run = (args: string[]) =>
    runMvm(['runner', ...args], { env: { ...env, MVM_TESTBED: testbed }, timeoutMs: 60_000 });

  const brick = join(dir, 'esp-miner-brick.bin');
  writeFileSync(brick, buildImage({ version: 'v2.16.0-brick' }));
  const b = await run(['flash', '--image', brick, '--json']);
  t.equal(b.code, 1);
  const br = JSON.parse(b.stdout.trim().split('\n').pop()!);
  t.same(
    { ok: br.ok, reason: br.reason, needsAttention: br.needsAttention },
    { ok: false, reason: 'verify_failed', needsAttention: false },
  );
  t.match(br.message, /recovered by recovery command: the device runs v2\.15\.0/);

  const good = join(dir, 'esp-miner.bin');
  writeFileSync(good, buildImage({ version: 'v2.16.0' }));
  const g = await run(['flash', '--image', good, '--json']);
  t.equal(g.code, 0, g.stderr);
  t.equal(JSON.parse(g.stdout.trim().split('\n').pop()!).version, 'v2.16.0');

  const info = await run(['info', '--json']);
  t.equal(JSON.parse(info.stdout).firmwareVersion, 'v2.16.0');

  const spec = join(dir, 'smoke.yaml');
  writeFileSync(
    spec,
    [
      'name: e2e-smoke',
      'script: ["node", "-e", "console.log(process.env.MVM_DEVICE_ADDRESS)"]',
      'devices: [{hardware: "601", software: "v2.16.0", attributes: [fan:stock]}]',
      'checks:',
      '  - {type: hashrate, min_percent: 85, window: 600ms}',
      '  - {type: temperature, max: 80, window: 600ms}',
      '  - {type: survives_restart, timeout: 15s}',
      'poll: 150ms',
    ].join('\n'),
  );
  const out = join(dir, 'out');
  const r = await run(['test', '--spec', spec, '--output', out]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /test e2e-smoke: PASSED/);
  const suite = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(
    readFileSync(join(out, 'junit.xml'), 'utf8'),
  ).testsuites.testsuite;
  t.equal(suite.tests, '5', 'prepare, script, three checks');
  t.equal(suite.failures, '0');
  t.equal(suite.testcase[0].name, 'prepare gamma');
  t.match(
    r.stdout,
    /ok {3}prepare gamma: already at v2\.16\.0/,
    'already on the software the test asks for: not flashed',
  );
  t.match(readFileSync(join(out, 'script.log'), 'utf8'), url);
});

t.test('no mvm process left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

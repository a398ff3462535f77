// `mvm runner restore` against simulators: an AxeOS device left on another version is re-flashed
// from the firmware library and gets its baseline pools and settings back (read through the
// simulator); a second restore changes nothing; a missing image, a device that cannot be flashed
// and command devices are reported per device, with the exit codes the factory relies on.
import t, { type Test } from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../runner/firmware/image.js';
import { restoreTestbed } from '../../runner/restore.js';
import { startAxeosSim, type AxeosSim } from '../../sim/axeos/index.js';
import { startCgminerSim } from '../../sim/cgminer/index.js';
import { parseTestbed } from '../../runner/testbed.js';
import { runMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTestbed } from './support.js';

const env = { MVM_LOG_LEVEL: 'warn', MVM_TESTBED: undefined, MVM_FIRMWARE_DIR: undefined };
/** Flash timing for a simulator that reboots in a few hundred ms. */
const FAST = { request_timeout_ms: 2000, poll_interval_ms: 100, settle_ms: 800, reboot_timeout_ms: 8000 };

async function gamma(t: Test): Promise<AxeosSim> {
  const sim = await startAxeosSim({ board: '601', firmware: 'v2.15.0', rebootDelayMs: 50, bootMs: 300 });
  t.teardown(() => sim.close());
  return sim;
}

/** A library whose file names say nothing about what the images are: the family is stated beside the image. */
function library(t: Test): string {
  const dir = tempDir(t, 'mvm-firmware-');
  writeFileSync(join(dir, 'build-1234.bin'), buildImage({ version: 'v2.9.0', size: 100_000 }));
  writeFileSync(join(dir, 'build-1234.bin.json'), JSON.stringify({ family: 'bitaxe' }));
  writeFileSync(join(dir, 'junk.bin'), 'not an image');
  return dir;
}

t.test('restore re-flashes, restores pools and settings, and a second restore is a no-op (CLI)', async (t) => {
  const sim = await gamma(t);
  const lib = library(t);
  // Left behind by a job: other pools, a turbo-ish frequency, the fan on auto.
  sim.device.settings.frequency = 600;
  const testbed = writeTestbed(tempDir(t), {
    baseline: 'esp-miner-2.9.0',
    firmware_dir: lib,
    devices: [
      {
        name: 'gamma',
        driver: 'axeos',
        address: sim.url,
        hardware: '601',
        options: FAST,
        pools: [
          { url: 'stratum+tcp://pool.lab:3333', user: 'bc1qlab.gamma' },
          { url: 'stratum+tcp://backup.lab:3334', user: 'bc1qlab.gamma', password: 'p' },
        ],
        settings: { mode: 'eco', fan: 60 },
      },
    ],
  });
  const first = await runMvm(['runner', 'restore', '--testbed', testbed, '--json'], { env, timeoutMs: 60_000 });
  t.equal(first.code, 0, first.stderr);
  const report = JSON.parse(first.stdout);
  t.same(Object.keys(report).sort(), ['devices', 'ok', 'testbed']);
  t.match(report, { ok: true, testbed: 'bench-1', devices: [{ device: 'gamma', ok: true }] });
  const actions = report.devices[0].actions;
  t.same(
    actions.map((a: { action: string }) => a.action),
    ['firmware', 'pools', 'settings', 'restart'],
  );
  t.match(actions[0], {
    ok: true,
    from: 'v2.15.0',
    to: 'v2.9.0',
    message: /flashed v2\.9\.0 \(was v2\.15\.0\) from .*build-1234\.bin/,
  });
  t.ok(
    actions.every((a: { ok: boolean }) => a.ok),
    JSON.stringify(actions),
  );

  t.equal(sim.device.version, 'v2.9.0');
  const s = sim.device.settings;
  t.match(s.pools[0], { stratumURL: 'pool.lab', stratumPort: 3333, stratumUser: 'bc1qlab.gamma' });
  t.match(s.pools[1], {
    stratumURL: 'backup.lab',
    stratumPort: 3334,
    stratumUser: 'bc1qlab.gamma',
    stratumPassword: 'p',
  });
  t.same([s.frequency, s.coreVoltage, s.autofanspeed, s.manualFanSpeed], [400, 1000, 0, 60], 'eco on BM1370, fan 60 %');

  const boots = sim.device.bootCount;
  const second = await runMvm(['runner', 'restore', '--testbed', testbed], { env, timeoutMs: 60_000 });
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, /^bench-1: restored \(1 device\(s\)\)/);
  t.match(second.stdout, /ok {3}firmware: already at v2\.9\.0/);
  t.match(
    second.stdout,
    /ok {3}pools: pools already at baseline \(pool\.lab:3333 bc1qlab\.gamma, backup\.lab:3334 bc1qlab\.gamma\)/,
  );
  t.match(second.stdout, /ok {3}settings: settings already at baseline \(400 MHz, 1000 mV, fan 60 %\)/);
  t.notMatch(second.stdout, /restart/, 'nothing changed, so no restart');
  t.equal(sim.device.bootCount, boots, 'the device was not rebooted');
});

/** A stand-in for an SP testbed's tool: records its argv, prints what it was asked. */
function fakeTool(dir: string): string {
  const tool = join(dir, 'sp-tool');
  writeFileSync(
    tool,
    `#!${process.execPath}
const args = process.argv.slice(2);
require('node:fs').appendFileSync(${JSON.stringify(join(dir, 'calls.log'))}, JSON.stringify(args) + '\\n');
if (args[0] === 'info') console.log(JSON.stringify({ model: 'sp', version: 'sp-1.0' }));
else if (args[0] === 'restore') console.log('restored to ' + args[2]);
else if (args[0] === 'health') { console.error('rot: not responding'); process.exit(2); }
else console.log('ok');
`,
  );
  chmodSync(tool, 0o755);
  return tool;
}

t.test(
  'per-device failures: no image for the baseline, a device that cannot be flashed; command devices',
  async (t) => {
    const sim = await gamma(t);
    const nano = await startCgminerSim({ model: 'nano3s' });
    t.teardown(() => nano.close());
    const lib = library(t);
    const dir = tempDir(t);
    const tool = fakeTool(dir);
    const testbed = parseTestbed(
      JSON.stringify({
        version: 1,
        testbed: 'bench-2',
        baseline: 'v16',
        devices: [
          {
            name: 'gamma',
            driver: 'axeos',
            address: sim.url,
            software: 'v2.8.0',
            options: FAST,
            pools: [{ url: 'stratum+tcp://pool.lab:3333', user: 'w' }],
          },
          { name: 'nano', driver: 'cgminer', address: nano.address, software: 'v9.9.9' },
          {
            name: 'sp',
            driver: 'command',
            options: {
              path: tool,
              operations: { restore: ['restore', '--baseline', '{baseline}', '--target', '{name}'] },
            },
          },
          { name: 'sp2', driver: 'command', options: { path: tool } },
        ],
      }),
      join(dir, 'testbed.json'),
    );
    const report = await restoreTestbed({ testbed, firmwareDir: lib });
    t.equal(report.ok, false);
    const [g, n, sp, sp2] = report.devices;

    t.equal(g.ok, false);
    t.same(
      g.actions.map((a) => a.action),
      ['firmware'],
      'nothing else is tried on the wrong firmware',
    );
    t.match(
      g.error,
      `no esp-miner v2.8.0 image in the firmware library ${lib}: it holds esp-miner v2.9.0 (bitaxe, build-1234.bin)`,
    );
    t.match(g.error, /skipped as not app images: junk\.bin \(not an ESP32 app image/);
    t.match(g.error, /hint: put the esp-miner app image of v2\.8\.0/);
    t.equal(sim.device.version, 'v2.15.0', 'nothing was flashed');
    t.equal(sim.device.settings.pools[0]?.stratumURL, 'public-pool.io', 'pools untouched');

    t.equal(n.ok, false);
    t.match(n.error, /runs .*, not v9\.9\.9 \(its baseline\), and the cgminer driver cannot flash it/);
    t.match(n.error, /a person must update nano to v9\.9\.9/);

    t.match(sp, { ok: true, actions: [{ action: 'command', ok: true, message: 'restored to v16' }] });
    t.same(JSON.parse(readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n')[0]), [
      'restore',
      '--baseline',
      'v16',
      '--target',
      'sp',
    ]);
    t.match(sp2, { ok: true, actions: [{ action: 'command', ok: true, message: /nothing to restore/ }] });

    // With no library anywhere, the error says how to configure one.
    const none = await restoreTestbed({ testbed, devices: [testbed.devices[0]] });
    t.match(
      none.devices[0].error,
      /gamma must be flashed to v2\.8\.0 \(its baseline\), but no firmware library is configured/,
    );
  },
);

t.test('exit codes: 1 when a device could not be restored, 2 for a bad testbed or device name', async (t) => {
  const dir = tempDir(t);
  const testbed = writeTestbed(dir, {
    baseline: 'v2.9.0',
    devices: [{ name: 'gamma', driver: 'axeos', address: 'http://127.0.0.1:1', options: { request_timeout_ms: 500 } }],
  });
  const dead = await runMvm(['runner', 'restore', '--testbed', testbed, '--json', '--firmware-dir', library(t)], {
    env,
  });
  t.equal(dead.code, 1, dead.stderr);
  const r = JSON.parse(dead.stdout);
  t.match(r, {
    ok: false,
    devices: [
      {
        device: 'gamma',
        ok: false,
        actions: [{ action: 'firmware', ok: false }],
        error: /ECONNREFUSED|unreachable|connect/,
      },
    ],
  });

  const ghost = await runMvm(['runner', 'restore', '--testbed', testbed, '--device', 'ghost'], { env });
  t.equal(ghost.code, 2);
  t.match(ghost.stderr, /mvm: error: testbed bench-1 has no device "ghost"\n\s+hint: devices: gamma/);
  const broken = join(dir, 'broken.json');
  writeFileSync(
    broken,
    JSON.stringify({
      version: 1,
      testbed: 'x',
      devices: [{ name: 'g', driver: 'axeos', address: 'http://h', settings: { fan: 300 } }],
    }),
  );
  const bad = await runMvm(['runner', 'restore', '--testbed', broken, '--json'], { env });
  t.equal(bad.code, 2);
  t.equal(bad.stdout, '', 'no JSON for a usage error');
  t.match(bad.stderr, /devices\[0\]\.settings\.fan: must be a whole number of % from 0 to 100, got 300/);
  const missing = await runMvm(['runner', 'restore'], { env });
  t.equal(missing.code, 2);
  t.match(missing.stderr, /no testbed: give --testbed FILE or set MVM_TESTBED/);
});

t.test('no mvm process left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

// No silences from the runner, seen as a user sees them: `mvm runner flash` and `mvm runner test`
// as real processes against a `mvm sim axeos` process that takes uploads at a real device's pace
// and stays dark for a while on reboot. Off a terminal the progress comes as plain lines (rate, ETA,
// the time waited); on a terminal (under script(1)) as a redrawn line. The period is shortened
// with --progress-every so the waits stay short.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../runner/firmware/image.js';
import { mvmBin, runMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { gammaDevice, writeTestbed } from './support.js';
import { startAxeosSimProcess } from '../helpers/axeos-sim-process.js';

const env = { MVM_LOG_LEVEL: 'info', MVM_TESTBED: undefined, NO_COLOR: '1' };

async function bench(t: Test) {
  const { url } = await startAxeosSimProcess(t, { bootMs: 1500, args: ['--fault', 'slow-upload=2048'], env });
  const dir = tempDir(t);
  const testbed = writeTestbed(dir, { testbed: 'bench-progress', devices: [gammaDevice(url)] });
  const image = join(dir, 'esp-miner.bin');
  // 12 MiB at 2 MiB/s: six seconds of upload. Far larger than a real image, because loopback's
  // socket buffers take a few MiB at once: the sender sees the device's pace only past them.
  writeFileSync(image, buildImage({ version: 'v2.16.0', size: 12 * 1024 * 1024 }));
  const flashArgs = (...more: string[]) => [
    'runner',
    'flash',
    '--image',
    image,
    '--testbed',
    testbed,
    '--poll-interval',
    '100ms',
    '--settle',
    '500ms',
    '--reboot-timeout',
    '20s',
    '--progress-every',
    '300ms',
    ...more,
  ];
  return { dir, testbed, flashArgs };
}

t.test('flash off a terminal: rate and ETA while uploading, elapsed time while it reboots', async (t) => {
  const { flashArgs } = await bench(t);
  const r = await runMvm(flashArgs(), { env, timeoutMs: 90_000 });
  t.equal(r.code, 0, r.code === 0 ? 'exits 0' : r.stderr);
  const lines = r.stderr.split('\n');
  t.ok(
    lines.some((l) => /^gamma: upload \d+% \(\d+\/12288 KiB, \d+ KiB\/s, ETA \d+ s\)$/.test(l)),
    'an upload line with rate and ETA',
  );
  t.ok(
    lines.some((l) => /^gamma: upload 100% \(12288\/12288 KiB, \d+ KiB\/s, done\)$/.test(l)),
    'the end of the upload',
  );
  const reboot = lines.findIndex((l) => l.startsWith('gamma: reboot: '));
  t.ok(reboot > 0, 'the reboot phase is said');
  t.ok(
    lines.slice(reboot + 1).some((l) => /^gamma: waiting for the device to come back: \d+ s$/.test(l)),
    'elapsed-time lines while the device reboots',
  );
  t.notMatch(r.stderr, /[\r{]/, 'plain lines: no redraws, no JSON');
  t.match(r.stdout, /^gamma: flashed v2\.16\.0 /);
});

t.test('flash on a terminal: one line redrawn with rate, ETA, then the elapsed wait', async (t) => {
  const { dir, flashArgs } = await bench(t);
  // script(1) gives the runner a terminal; its typescript file is what the terminal showed.
  const typescript = join(dir, 'typescript');
  const cmd = [process.execPath, mvmBin(), ...flashArgs()].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', cmd, typescript], {
    env: { ...process.env, ...env, COLUMNS: '120' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let shown = '';
  child.stdout.on('data', (c: Buffer) => (shown += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const [code] = (await once(child, 'exit')) as [number];
  clearTimeout(timer);
  t.equal(code, 0, code === 0 ? 'exits 0' : shown.slice(-2000));
  t.match(shown, /\rgamma: upload \[[#.]+\] \d+% \(\d+\/12288 KiB, \d+ KiB\/s, ETA \d+ s\)\x1b\[K/, 'the bar redrawn');
  t.match(shown, /\rgamma: waiting for the device to come back: \d+ s\x1b\[K/, 'the elapsed time redrawn');
  t.match(shown, /gamma: flashed v2\.16\.0 /);
});

t.test('survives_restart says what it waits for while the device is down', async (t) => {
  const { dir, testbed } = await bench(t);
  const spec = join(dir, 'restart.yaml');
  writeFileSync(
    spec,
    [
      'name: restart',
      'script: ["node", "-e", "0"]',
      'devices: [{hardware: "601"}]',
      'checks:',
      '  - {type: survives_restart, timeout: 20s}',
    ].join('\n'),
  );
  const r = await runMvm(
    [
      'runner',
      'test',
      '--spec',
      spec,
      '--testbed',
      testbed,
      '--output',
      join(dir, 'out'),
      '--poll',
      '100ms',
      '--progress-every',
      '300ms',
    ],
    { env, timeoutMs: 90_000 },
  );
  t.equal(r.code, 0, r.code === 0 ? 'exits 0' : r.stdout + r.stderr);
  t.match(r.stdout, /ok {3}survives_restart \[gamma\]: back after/);
  t.match(
    r.stderr,
    /survives_restart: waiting for gamma to come back after the restart and hash \(up to 20 s\): \d+ s \(not answering: unreachable\)$/m,
    'a progress line naming the wait and the latest state',
  );
});

t.test('no mvm process left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

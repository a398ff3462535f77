// Fault: an AxeOS device that stops answering in the middle of an OTA upload. `mvm runner flash`
// talks to a real `mvm sim axeos` through a loopback TCP proxy (lib/tcp-proxy.ts) that forwards
// part of the upload and then goes silent. The flash must end — never hang — within the bounds it
// was given, with exit 1 and a typed result saying what happened.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../runner/firmware/image.js';
import { runMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { startAxeosSimProcess } from '../helpers/axeos-sim-process.js';
import { startStallingProxy } from './lib/tcp-proxy.js';
import { assertNone, liveWithCmdline } from './lib/procs.js';

t.teardown(() => stopAllMvm());

// Small bounds, so that a hang shows as a test failure quickly: upload 3 s, requests 1 s, reboot 3 s.
const BOUNDS = [
  '--option',
  'upload_timeout_ms=3000',
  '--option',
  'request_timeout_ms=1000',
  '--option',
  'recovery_timeout_ms=2000',
  '--poll-interval',
  '200ms',
  '--reboot-timeout',
  '3s',
  '--settle',
  '1s',
];
/** Upload + reboot wait + recovery, and generous slack for a loaded machine. */
const LIMIT_MS = 3000 + 3000 + 2000 + 12_000;

async function simulator(t: Test): Promise<{ url: string; port: number }> {
  const { url } = await startAxeosSimProcess(t, { firmware: 'v2.12.0', bootMs: 200 });
  return { url, port: Number(new URL(url).port) };
}

function resultOf(stdout: string): Record<string, unknown> | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes('"event":"result"'));
  return line ? JSON.parse(line) : undefined;
}

for (const hangAll of [false, true]) {
  const what = hangAll
    ? 'the whole device hangs once the upload stalls'
    : 'the upload connection stalls; the device still answers';
  t.test(`flash: ${what}`, async (t) => {
    const dir = tempDir(t, 'mvm-flash-hang-');
    const image = join(dir, 'esp-miner.bin');
    writeFileSync(image, buildImage({ version: 'v2.13.0', size: 1024 * 1024 }));
    const sim = await simulator(t);
    const proxy = await startStallingProxy(sim.port, {
      stallOn: 'POST /api/system/OTA',
      passBytes: 128 * 1024,
      hangAfterStall: hangAll,
    });
    t.teardown(() => proxy.close());

    const started = Date.now();
    const r = await runMvm(
      ['runner', 'flash', '--driver', 'axeos', '--address', proxy.url, '--image', image, '--json', ...BOUNDS],
      {
        timeoutMs: LIMIT_MS + 10_000, // a hang is killed here, and fails the bound below
        env: { MVM_LOG_LEVEL: 'warn' },
      },
    );
    const took = Date.now() - started;
    t.ok(proxy.stalled, 'the upload stalled mid-way');
    t.ok(
      proxy.forwarded > 0 && proxy.forwarded <= 128 * 1024,
      `part of the image reached the device (${proxy.forwarded} bytes)`,
    );
    t.ok(took < LIMIT_MS, `the flash ended in ${took} ms, within its bound`);
    t.equal(r.code, 1, 'exit 1: the work failed');
    const res = resultOf(r.stdout);
    t.ok(res, 'a JSON result line');
    t.equal(res?.ok, false);
    t.match(
      res?.reason,
      hangAll ? /^(needs_attention|timeout|unreachable)$/ : /^(verify_failed|timeout)$/,
      `typed reason: ${String(res?.reason)}`,
    );
    t.match(String(res?.message), /upload/i, `the message says the upload failed: ${String(res?.message)}`);
    t.match(r.stderr, /mvm: error: /, 'an error line on stderr');
    t.notMatch(r.stderr, /^\s+at /m, 'no stack trace');
    await assertNone(t, () => liveWithCmdline(image), 'no runner process left');
  });
}

t.test('control: the same device flashed without the fault succeeds', async (t) => {
  const dir = tempDir(t, 'mvm-flash-ok-');
  const image = join(dir, 'esp-miner.bin');
  writeFileSync(image, buildImage({ version: 'v2.13.0', size: 1024 * 1024 }));
  const sim = await simulator(t);
  const r = await runMvm(
    ['runner', 'flash', '--driver', 'axeos', '--address', sim.url, '--image', image, '--json', ...BOUNDS],
    { timeoutMs: LIMIT_MS + 10_000 },
  );
  t.equal(r.code, 0, r.stderr);
  t.match(resultOf(r.stdout), { ok: true, version: 'v2.13.0' });
});

// The runner holds a testbed for the whole of its work: real `mvm runner`
// processes, a device that never answers (a runner stuck mid-request, as on a slow flash) and a
// simulated Bitaxe. While one runner works on a testbed, a second one — whether by description,
// by --address or with --ignore-lock — is refused naming the first (pid, user, command); the
// factory's runners (lock_wait_ms in their description) wait instead; the hold ends with its
// holder, SIGKILL included; a runner a test script starts inside `mvm runner test` works under
// the test's hold.
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { HOLD_ENV, holdName, whoHolds } from '../../shared/device-hold.js';
import { testbedLockDir, writeLockFile } from '../../shared/testbed-locks.js';
import { mvmBin, startMvm, waitFor, type MvmProcess } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { startAxeosSimProcess } from '../helpers/axeos-sim-process.js';

const lockDir = testbedLockDir();
let dir: string;
let simUrl: string;
let hangUrl: string;

/** A description of testbed `bench` with one device at `address`. */
function describe(name: string, address: string, extra: object = {}): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      testbed: 'bench',
      lock_dir: lockDir,
      ...extra,
      devices: [{ name: 'miner', driver: 'axeos', address, options: { request_timeout_ms: 600_000 } }],
    }),
  );
  return file;
}

function runner(args: string[]): MvmProcess {
  return startMvm(['runner', ...args], { env: { MVM_LOG_LEVEL: 'info' } });
}

async function exited(p: MvmProcess): Promise<{ code: number | string; out: string }> {
  const code = await p.exited;
  return { code, out: [...p.stdout, ...p.stderr].join('\n') };
}

/** A runner stuck in a request to a device that never answers, holding `bench`. */
async function stuckHolder(t: Test): Promise<MvmProcess> {
  const holder = runner(['control', 'fan', '80', '--testbed', describe('hang', hangUrl)]);
  t.teardown(() => holder.kill9());
  const who = await waitFor(
    async () => (await whoHolds(lockDir, 'bench'))?.holder,
    'the first runner to hold the testbed',
    30_000,
  );
  t.equal(who.pid, holder.pid, 'the holder says who it is');
  t.equal(who.command, 'control');
  return holder;
}

t.before(async () => {
  dir = tempDir(t, 'mvm-hold-');
  simUrl = (await startAxeosSimProcess(t, { bootMs: 300 })).url;
  const hang: Server = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => hang.close(() => r())).then(() => hang.closeAllConnections()));
  hangUrl = `http://127.0.0.1:${(hang.address() as { port: number }).port}`;
  // The factory's lock file lists the testbed's address, so --address finds it.
  writeLockFile(lockDir, {
    version: 1,
    testbed: 'bench',
    held: null,
    devices: [{ name: 'miner', driver: 'axeos', address: simUrl }],
    pid: process.pid,
  });
});

t.test('a second runner is refused naming the one at work, until it ends (SIGKILL too)', async (t) => {
  const holder = await stuckHolder(t);
  const byDescription = await exited(runner(['control', 'mode', 'eco', '--testbed', describe('desc', simUrl)]));
  t.not(byDescription.code, 0, 'by description: refused');
  t.match(
    byDescription.out,
    new RegExp(
      `testbed bench is being worked on by runner pid ${holder.pid} \\(${userInfo().username}: \`mvm runner control\``,
    ),
    'naming the holder: pid, user, command',
  );
  const byAddress = await exited(
    runner(['flash', '--image', join(dir, 'none.bin'), '--driver', 'axeos', '--address', `${simUrl}/`]),
  );
  t.match(byAddress.out, new RegExp(`being worked on by runner pid ${holder.pid}`), 'by --address: refused');
  const ignoring = await exited(
    runner(['control', 'mode', 'eco', '--testbed', describe('desc', simUrl), '--ignore-lock']),
  );
  t.not(ignoring.code, 0, '--ignore-lock does not make two runners drive one device');
  t.match(ignoring.out, /being worked on by runner pid/);
  const reading = await exited(runner(['telemetry', '--testbed', describe('desc', simUrl)]));
  t.equal(reading.code, 0, `reading is not refused: ${reading.out}`);

  await holder.kill9();
  await waitFor(async () => (await whoHolds(lockDir, 'bench')) === undefined, 'the hold to end with its holder');
  const after = await exited(runner(['control', 'mode', 'eco', '--testbed', describe('desc', simUrl)]));
  t.equal(after.code, 0, `then it goes ahead: ${after.out}`);
});

t.test("the factory's runners wait for the one at work instead", async (t) => {
  const holder = await stuckHolder(t);
  const waiting = runner([
    'control',
    'mode',
    'standard',
    '--testbed',
    describe('wait', simUrl, { lock_wait_ms: 600_000 }),
  ]);
  t.teardown(() => waiting.kill9());
  await waiting.waitForLine(
    new RegExp(`waiting for testbed bench: another runner is working on it \\(pid ${holder.pid}`),
    30_000,
  );
  t.equal(waiting.child.exitCode, null, 'still waiting while the holder works');
  await holder.kill9();
  const r = await exited(waiting);
  t.equal(r.code, 0, `it went ahead once the holder ended: ${r.out}`);
});

t.test('a runner started under the hold (a test script inside `mvm runner test`) works under it', async (t) => {
  const testbed = describe('nested', simUrl);
  const script = join(dir, 'nested.sh');
  writeFileSync(
    script,
    `#!/bin/bash\nset -o errexit\n"${process.execPath}" "${mvmBin()}" runner control mode eco --testbed "${testbed}"\necho nested-ok\n`,
    { mode: 0o755 },
  );
  const spec = join(dir, 'nested.yaml');
  writeFileSync(spec, 'name: nested\nscript: nested.sh\ndevices:\n  - name: miner\n');
  const r = await exited(runner(['test', '--spec', spec, '--testbed', testbed, '--output', join(dir, 'nested-out')]));
  t.equal(r.code, 0, `the script's runner went ahead under the test's hold: ${r.out}`);
  t.match(r.out, /nested-ok/);
  t.notMatch(r.out, /waiting for testbed|being worked on/);

  // A made-up secret for the same hold does not get in.
  const holder = await stuckHolder(t);
  const tag = createHash('sha256').update(holdName(lockDir, 'bench')).digest('hex').slice(0, 16);
  const forged = await exited(
    startMvm(['runner', 'control', 'mode', 'eco', '--testbed', testbed], {
      env: { MVM_LOG_LEVEL: 'info', [HOLD_ENV]: `${tag}:${'0'.repeat(32)}` },
    }),
  );
  t.not(forged.code, 0, 'refused');
  t.match(forged.out, new RegExp(`being worked on by runner pid ${holder.pid}`));
});

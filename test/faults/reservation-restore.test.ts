// Reservations end like jobs: a real job server, factory, simulated
// Bitaxe and `mvm runner` processes. While alice holds a reservation, bob's runner — another API
// user, and when the test runs as root another OS user — is refused naming alice, by testbed
// description and by --address; alice's runner, with her reservation's credential, works;
// --ignore-lock works and is journalled. However the reservation ends (release, TTL, forced), the
// baseline is restored before the testbed is free — overclocking included; a restore that fails
// quarantines the testbed; an admin's "restore on release: no" leaves the bench as it is.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { whoHolds } from '../../shared/device-hold.js';
import { startSilentDevice, writeSilentTestbed } from '../helpers/silent-device.js';
import { liveWithCmdline } from './lib/procs.js';
import { waitFor, mvmBin } from '../helpers/mvm-process.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { startOneBitaxeFactory, testbedHistory, testbedOf, type LabApi } from '../factory/fixture.js';
import { startAxeosSimProcess, type AxeosSimProcess } from '../helpers/axeos-sim-process.js';

let srv: TestServer;
let sim: AxeosSimProcess;
let simUrl: string;
let api: LabApi;
let dir: string;
let lockDir: string;
let descFile: string;
const tokens: Record<string, string> = {};

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const simInfo = () => sim.info();
const simFault = (body: object) => sim.fault(body);
const testbed = () => testbedOf(api, 'gamma');
const history = () => testbedHistory(api, 'gamma');

/** `mvm runner …` as a person would run it: bob as another OS user when we can. */
function runner(
  args: string[],
  o: { env?: Record<string, string>; uid?: number } = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mvmBin(), 'runner', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, MVM_TESTBED_LOCKS: lockDir, MVM_LOG_LEVEL: 'warn', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(o.uid !== undefined ? { uid: o.uid, gid: o.uid } : {}),
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}
const bob = (args: string[], env: Record<string, string> = {}) =>
  runner(args, { env, ...(asRoot ? { uid: NOBODY } : {}) });
const device = ['--driver', 'axeos', '--address'];

async function reserve(who: string, body: object = {}) {
  const r = await api.call('POST', '/v1/testbeds/gamma/reservation', {
    token: tokens[who],
    body: { ttl: '10m', ...body },
  });
  return r;
}
async function releaseAndWaitFree(t: Test, who: string) {
  const r = await api.call('DELETE', '/v1/testbeds/gamma/reservation', { token: tokens[who] });
  t.equal(r.status, 200, `${who} released`);
  return waitFor(async () => ((await testbed()).free ? testbed() : undefined), 'gamma free again', 60_000);
}

t.before(async () => {
  srv = await startServer(t, { args: ['--tick', '200ms'] });
  dir = tempDir(t, 'mvm-resv-');
  chmodSync(dir, 0o755); // bob (another OS user) reads the lock directory inside it
  lockDir = join(dir, 'locks');
  sim = await startAxeosSimProcess(t, { firmware: 'v2.9.0', bootMs: 300 });
  simUrl = sim.url;
  ({ api } = await startOneBitaxeFactory(t, srv, dir, {
    simUrl,
    device: { settings: { mode: 'standard' } },
    env: { MVM_TESTBED_LOCKS: lockDir },
  }));
  for (const name of ['alice', 'bob'])
    tokens[name] = (await api.call('POST', '/v1/users', { body: { name } })).body.token;
  tokens.admin = api.adminToken;
  // A description naming the testbed, as a person would write one (no credential in it).
  descFile = join(dir, 'gamma.json');
  writeFileSync(
    descFile,
    JSON.stringify({ version: 1, testbed: 'gamma', devices: [{ name: 'miner', driver: 'axeos', address: simUrl }] }),
  );
  chmodSync(descFile, 0o644);
  await waitFor(async () => (await testbed()).health === 'good', 'the first check', 60_000);
});

t.test(
  'while alice holds a reservation, only her runner acts on its devices; --ignore-lock is journalled',
  async (t) => {
    const r = await reserve('alice', { reason: 'oc experiments' });
    t.equal(r.status, 201);
    t.type(r.body.credential, 'string', 'the reservation answer carries the runner credential');
    t.equal(r.body.restore_on_release, true);
    const cred = r.body.credential as string;

    const refusedByAddress = await bob(['control', 'mode', 'eco', ...device, simUrl]);
    t.not(refusedByAddress.code, 0, 'bob by --address: refused');
    t.match(refusedByAddress.out, /testbed gamma is reserved by alice/, 'naming the holder');
    const refusedByTestbed = await bob(['control', 'mode', 'eco'], { MVM_TESTBED: descFile });
    t.not(refusedByTestbed.code, 0, 'bob with MVM_TESTBED: refused');
    t.match(refusedByTestbed.out, /reserved by alice/);
    const refusedFlash = await bob(['flash', '--image', join(dir, 'none.bin'), ...device, `${simUrl}/`]);
    t.match(refusedFlash.out, /reserved by alice/, 'flash too, whatever the spelling of the address');
    const wrongCred = await bob(['control', 'mode', 'eco', ...device, simUrl], { MVM_LOCK_CREDENTIAL: 'not-it' });
    t.match(wrongCred.out, /not the holder's/, 'a wrong credential is refused');
    t.equal((await simInfo()).frequency, 525, 'the device is untouched');

    const alice = await runner(['control', 'mode', 'oc', ...device, simUrl], { env: { MVM_LOCK_CREDENTIAL: cred } });
    t.equal(alice.code, 0, `alice's runner with her credential works: ${alice.out}`);
    t.equal((await simInfo()).overclockEnabled, 1, 'the device overclocks');
    t.equal((await runner(['telemetry', ...device, simUrl])).code, 0, 'reading is not refused');

    const forced = await bob(['control', 'fan', '80', ...device, simUrl, '--ignore-lock']);
    t.equal(forced.code, 0, `--ignore-lock goes ahead: ${forced.out}`);
    t.match(forced.out, /ignore-lock/);
    await waitFor(
      async () =>
        (await history()).some(
          (e) => e.kind === 'lock-ignored' && /with --ignore-lock .*reserved by alice/.test(e.message),
        ),
      'the override journalled',
    );

    // Released: the baseline (standard, overclocking off) is back before the testbed is free.
    const free = await releaseAndWaitFree(t, 'alice');
    t.equal(free.health, 'good');
    const info = await simInfo();
    t.match(info, { frequency: 525, coreVoltage: 1150, overclockEnabled: 0 }, 'standard mode, overclocking off');
    const h = await history();
    const released = h.findIndex((e) => e.kind === 'released');
    t.ok(
      h.findIndex((e) => e.kind === 'restore-pending') > released &&
        h.findIndex((e) => e.kind === 'restored') > released,
      'restore-pending, then restored',
    );
    t.equal((await bob(['control', 'mode', 'eco', ...device, simUrl])).code, 0, 'a free testbed: anyone may');
    t.equal((await runner(['control', 'mode', 'standard', ...device, simUrl])).code, 0);
  },
);

t.test("the factory's restore waits for a runner still at work on the testbed (its hold)", async (t) => {
  // bob's --ignore-lock runner is stuck in a request to a device that never answers: it holds
  // gamma for as long as it runs, and the restore after alice's release must not run beside it.
  const hangDesc = join(dir, 'gamma-hang.json');
  writeSilentTestbed(hangDesc, 'gamma', await startSilentDevice(t));
  chmodSync(hangDesc, 0o644);
  t.equal((await reserve('alice')).status, 201);
  const stuck = spawn(
    process.execPath,
    [mvmBin(), 'runner', 'control', 'fan', '80', '--testbed', hangDesc, '--ignore-lock'],
    {
      env: { PATH: process.env.PATH ?? '', HOME: dir, MVM_TESTBED_LOCKS: lockDir, MVM_LOG_LEVEL: 'warn' },
      stdio: 'ignore',
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    },
  );
  const gone = new Promise((r) => stuck.once('exit', r));
  t.teardown(() => stuck.kill('SIGKILL'));
  const who = await waitFor(
    async () => (await whoHolds(lockDir, 'gamma'))?.holder,
    "bob's runner to hold gamma",
    30_000,
  );
  t.equal(who.pid, stuck.pid);
  t.match(who.on_behalf, /--ignore-lock by .* while it is reserved by alice/, 'the hold says on whose behalf');

  t.equal((await api.call('DELETE', '/v1/testbeds/gamma/reservation', { token: tokens.alice })).status, 200);
  await waitFor(() => liveWithCmdline('restore\0--testbed').length > 0, 'the restore runner to start', 60_000);
  const during = await testbed();
  t.equal(during.free, false, 'not free while the restore waits');
  t.equal(during.lock?.kind, 'restore', 'held by the restore');
  t.equal(stuck.exitCode, null, "bob's runner still at work");

  stuck.kill('SIGKILL');
  await gone;
  const free = await waitFor(
    async () => ((await testbed()).free ? testbed() : undefined),
    'restored, then free',
    60_000,
  );
  t.equal(free.health, 'good');
  t.match(await simInfo(), { frequency: 525, overclockEnabled: 0 }, 'the baseline');
});

t.test('an expired reservation and a forced release restore too; a restore that fails quarantines', async (t) => {
  // Long enough for alice's runner to act before it lapses on a loaded machine.
  const r = await reserve('alice', { ttl: '8s' });
  t.equal(r.status, 201);
  t.equal(
    (await runner(['control', 'mode', 'oc', ...device, simUrl], { env: { MVM_LOCK_CREDENTIAL: r.body.credential } }))
      .code,
    0,
  );
  await waitFor(
    async () => (await history()).some((e) => e.kind === 'reservation-expired'),
    'the TTL to lapse',
    30_000,
  );
  await waitFor(async () => (await testbed()).free, 'restored and free', 60_000);
  t.match(await simInfo(), { frequency: 525, overclockEnabled: 0 }, 'restored after the TTL');

  t.equal((await reserve('bob')).status, 201);
  t.equal((await simFault({ set: ['drop=1'] })).status, 200);
  const rel = await api.call('DELETE', '/v1/testbeds/gamma/reservation?force=true', { token: tokens.admin });
  t.equal(rel.status, 200);
  const tb = await waitFor(
    async () => {
      const x = await testbed();
      return x.health === 'unknown' && !x.lock ? x : undefined;
    },
    'the failed restore to quarantine the testbed',
    90_000,
  );
  t.equal(tb.free, false, 'quarantined: no job');
  // (The check that follows at once may have replaced the reason with its own failure.)
  t.match(tb.health_reason, /baseline restore/);
  const h = await history();
  t.ok(
    h.some((e) => e.kind === 'restore-failed' && /baseline restore after bob's reservation failed/.test(e.message)),
    'restore-failed journalled',
  );
  t.ok(
    h.some((e) => e.kind === 'health-unknown' && /baseline restore after bob's reservation failed/.test(e.message)),
    'and the testbed quarantined for it',
  );
  t.equal((await simFault({ clear: ['*'] })).status, 200);
  t.equal((await api.call('POST', '/v1/testbeds/gamma/check', { body: {} })).status, 202);
  await waitFor(async () => (await testbed()).free, 'a check to bring it back', 90_000);
});

t.test('"restore on release: no" is for admins only and journalled', async (t) => {
  const refused = await reserve('alice', { restore_on_release: false });
  t.equal(refused.status, 403, 'not for a plain user');
  const r = await reserve('admin', { owner: 'alice', restore_on_release: false, reason: 'bench set up for carol' });
  t.equal(r.status, 201);
  t.equal(r.body.restore_on_release, false);
  t.equal(
    (await runner(['control', 'mode', 'eco', ...device, simUrl], { env: { MVM_LOCK_CREDENTIAL: r.body.credential } }))
      .code,
    0,
  );
  await releaseAndWaitFree(t, 'alice');
  t.equal((await simInfo()).frequency, 400, 'left in eco');
  const h = await history();
  t.ok(h.some((e) => e.kind === 'reserved' && /restore on release: no/.test(e.message)));
  t.ok(h.some((e) => e.kind === 'restore-skipped' && /restore on release: no/.test(e.message)));
});

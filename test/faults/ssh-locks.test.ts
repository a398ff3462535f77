// Testbed locks on an SSH testbed (issue 18, item 3): its runners — the factory's, and people's
// `mvm runner` — run on the testbed's host, so the factory keeps the testbed's lock file in the
// lock directory there (`lock_dir` of its agent table). A real job server, factory, simulated
// Bitaxe and sshd; people's runners run through the real `ssh` client. While alice holds a
// reservation, bob's runner on the host is refused naming her; hers, with the credential, works;
// his --ignore-lock works and is journalled by the factory; her release restores the baseline
// over SSH before the testbed is free — after waiting for bob's runner still at work there, which
// holds the testbed on the host.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { MVM_BIN } from '../../shared/paths.js';
import { readLockFile } from '../../shared/testbed-locks.js';
import { whoHolds } from '../../shared/device-hold.js';
import { liveWithCmdline } from './lib/procs.js';
import { startOneBitaxeFactory, testbedHistory, testbedOf } from '../factory/fixture.js';
import { startAxeosSimProcess } from '../helpers/axeos-sim-process.js';
import { startSilentDevice, writeSilentTestbed } from '../helpers/silent-device.js';
import { waitFor } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { sshAgentTable, startSshd, sshdUnavailable, type Sshd } from '../helpers/sshd.js';
import { tempDir } from '../helpers/tmp.js';

const TESTBED = 'gamma-ssh';

/** `mvm runner …` run on the testbed's host by a person logged in over SSH. */
function runnerOverSsh(sshd: Sshd, env: Record<string, string>, args: string[]) {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [
    'env',
    ...Object.entries({ MVM_LOG_LEVEL: 'warn', ...env }).map(([k, v]) => q(`${k}=${v}`)),
    q(process.execPath),
    q(MVM_BIN),
    'runner',
    ...args.map(q),
  ].join(' ');
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(
      'ssh',
      [
        '-i',
        sshd.identityFile,
        '-o',
        `UserKnownHostsFile=${sshd.knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-p',
        String(sshd.port),
        `${sshd.user}@${sshd.host}`,
        command,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

t.test(
  "an SSH testbed's lock holds on its host: people's runners there are refused, the holder's work",
  { skip: sshdUnavailable() },
  async (t) => {
    const srv = await startServer(t, { args: ['--tick', '200ms'] });
    const sshd = await startSshd(t);
    const dir = tempDir(t, 'mvm-ssh-locks-');
    const hostLocks = join(dir, 'host-locks');
    const sim = await startAxeosSimProcess(t, { bootMs: 300 });
    const simUrl = sim.url;
    const simInfo = () => sim.info();
    const { api } = await startOneBitaxeFactory(t, srv, dir, {
      simUrl,
      testbed: TESTBED,
      testbedKeys: { agent: sshAgentTable(sshd, join(dir, 'remote'), { lock_dir: hostLocks }) },
      device: { settings: { mode: 'standard' } },
      timeoutMs: 60_000,
    });
    const tokens: Record<string, string> = {};
    for (const name of ['alice', 'bob'])
      tokens[name] = (await api.call('POST', '/v1/users', { body: { name } })).body.token;
    const testbed = () => testbedOf(api, TESTBED);
    const history = () => testbedHistory(api, TESTBED);
    // The first check restores and checks over SSH: the factory's runners pass the lock on the host.
    await waitFor(async () => (await testbed()).health === 'good', 'the first check over SSH', 120_000);

    const r = await api.call('POST', `/v1/testbeds/${TESTBED}/reservation`, {
      token: tokens.alice,
      body: { ttl: '10m' },
    });
    t.equal(r.status, 201);
    await waitFor(
      () => readLockFile(hostLocks, TESTBED)?.held?.owner === 'alice',
      "the host's lock file to name alice",
      30_000,
    );
    const onHost = { MVM_TESTBED_LOCKS: hostLocks };
    const device = ['--driver', 'axeos', '--address', simUrl];
    const bob = await runnerOverSsh(sshd, onHost, ['control', 'mode', 'eco', ...device]);
    t.not(bob.code, 0, "bob's runner on the host: refused");
    t.match(bob.out, new RegExp(`testbed ${TESTBED} is reserved by alice`), 'naming the holder');
    t.equal((await simInfo()).frequency, 525, 'the device is untouched');
    const alice = await runnerOverSsh(sshd, { ...onHost, MVM_LOCK_CREDENTIAL: r.body.credential }, [
      'control',
      'mode',
      'oc',
      ...device,
    ]);
    t.equal(alice.code, 0, `alice's runner with her credential works: ${alice.out}`);
    const forced = await runnerOverSsh(sshd, onHost, ['control', 'fan', '80', ...device, '--ignore-lock']);
    t.equal(forced.code, 0, `--ignore-lock goes ahead: ${forced.out}`);
    await waitFor(
      async () =>
        (await history()).some((e) => e.kind === 'lock-ignored' && /--ignore-lock .*reserved by alice/.test(e.message)),
      'the note left on the host journalled by the factory',
      60_000,
    );
    t.pass('journalled');

    // bob's --ignore-lock runner on the host, stuck in a request to a device that never answers,
    // holds the testbed there: the restore over SSH after alice's release waits for it.
    const hangDesc = join(dir, 'hang.json');
    writeSilentTestbed(hangDesc, TESTBED, await startSilentDevice(t));
    const stuck = runnerOverSsh(sshd, onHost, ['control', 'fan', '80', '--testbed', hangDesc, '--ignore-lock']);
    const holder = await waitFor(
      async () => (await whoHolds(hostLocks, TESTBED))?.holder,
      "bob's runner to hold the testbed on the host",
      30_000,
    );
    t.teardown(() => {
      try {
        process.kill(holder.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    });
    t.equal((await api.call('DELETE', `/v1/testbeds/${TESTBED}/reservation`, { token: tokens.alice })).status, 200);
    await waitFor(
      () => liveWithCmdline('restore\0--testbed').length > 0,
      'the restore runner to start on the host',
      60_000,
    );
    const during = await testbed();
    t.equal(during.free, false, 'not free while the restore waits for the runner at work');
    t.equal(during.lock?.kind, 'restore');
    process.kill(holder.pid, 'SIGKILL'); // bob stops his runner
    await stuck;
    await waitFor(async () => (await testbed()).free, 'restored over SSH, then free', 120_000);
    t.match(await simInfo(), { frequency: 525, overclockEnabled: 0 }, 'the baseline is back');
    await waitFor(() => readLockFile(hostLocks, TESTBED)?.held === null, "the host's lock file to say free", 30_000);
    t.equal((await runnerOverSsh(sshd, onHost, ['control', 'mode', 'standard', ...device])).code, 0, 'anyone may now');
  },
);

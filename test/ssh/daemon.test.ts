// SSH testbeds through the real `mvm factory` daemon: one whose host key is pinned by fingerprint
// runs a job end to end; one whose host is down and one whose host key does not match are
// unavailable with their reason (in the API and in `why`), and their jobs wait — nothing is run
// on a host whose key is wrong.
import t from 'tap';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, mvmBin } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { startSshd, sshdUnavailable } from '../helpers/sshd.js';
import { tempDir } from '../helpers/tmp.js';
import { toml, type TomlTable } from '../helpers/toml.js';
import { startAxeosSim } from '../../sim/axeos/index.js';
import { factoryApi, runFactory } from '../factory/fixture.js';

const closedPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

t.test(
  'the daemon runs SSH testbeds and marks unusable hosts unavailable with their reason',
  { skip: sshdUnavailable() },
  async (t) => {
    const sshd = await startSshd(t);
    const srv = await startServer(t, { args: ['--tick', '200ms'] });
    const sim = await startAxeosSim({ listen: '127.0.0.1:0', board: '601', firmware: 'v2.9.0' });
    t.teardown(() => sim.close());
    const dir = tempDir(t, 'mvm-ssh-daemon-');
    const remote = join(dir, 'remote');
    mkdirSync(remote, { mode: 0o700 });
    const wrong = join(dir, 'known_hosts_wrong');
    writeFileSync(
      wrong,
      `[127.0.0.1]:${sshd.port} ${sshd.makeKey('impostor').publicKey.split(' ').slice(0, 2).join(' ')}\n`,
    );
    const ids: Record<string, string> = {};
    for (const n of ['t-ok', 't-down', 't-wrong']) ids[n] = await srv.createTarget(n);
    const factoryToken = await srv.createFactory('lab');
    const userToken = await srv.createUser('tester');
    const agent = (o: TomlTable) => ({
      mode: 'ssh',
      host: '127.0.0.1',
      user: sshd.user,
      identity_file: sshd.identityFile,
      remote_workdir: remote,
      remote_command: [process.execPath, mvmBin()],
      ...o,
    });
    const down = await closedPort();
    const config = join(dir, 'factory.toml');
    writeFileSync(
      config,
      toml({
        general: { baseurl: srv.url },
        factory: { token: factoryToken, poll_interval: '300ms', lease_wait: '300ms', stop_grace: '2s' },
        health: { window: '500ms', samples: 1 },
        api: { listen: '127.0.0.1:0' },
        target: Object.fromEntries(Object.entries(ids).map(([n, id]) => [n, { id }])),
        testbed: {
          'ssh-ok': {
            targets: ['t-ok'],
            agent: agent({ port: sshd.port, host_key: sshd.hostFingerprint }),
            // Checked before its first job, by the runner on the testbed's host (over SSH).
            devices: { miner: { driver: 'axeos', hardware: '601', address: sim.url, software: 'v2.9.0' } },
          },
          'ssh-down': { targets: ['t-down'], agent: agent({ port: down, known_hosts: sshd.knownHosts }) },
          'ssh-wrong': { targets: ['t-wrong'], agent: agent({ port: sshd.port, known_hosts: wrong }) },
        },
      }),
    );
    const db = join(dir, 'factory.sqlite3');
    const factory = await runFactory(config, db, { t });
    const api = await factoryApi(factory, db);
    const user = srv.client(userToken);

    const ok = await srv.submitJob(userToken, {
      target: 't-ok',
      script: 'echo "remote job on $(hostname)"; test -f "$MVM_TESTBED"',
      name: 'ssh-ok',
    });
    const stuck = await srv.submitJob(userToken, { target: 't-down', script: 'echo never', name: 'ssh-down' });
    const wrongJob = await srv.submitJob(userToken, {
      target: 't-wrong',
      script: 'touch /tmp/mvm-must-not-run',
      name: 'ssh-wrong',
    });
    await waitFor(
      async () => (await user.get<{ state: string }>(`/0/job/${ok}`)).state === 'completed',
      'the job through the pinned-key host',
      60_000,
    );

    const tb = async (n: string) => (await api.call('GET', `/v1/testbeds/${n}`)).body;
    const downTb = await waitFor(
      async () => ((await tb('ssh-down')).state === 'unavailable' ? tb('ssh-down') : undefined),
      'ssh-down unavailable',
      30_000,
    );
    t.match(downTb.unavailable, /connection refused|ECONNREFUSED/i, 'the reason says the host refused the connection');
    t.notMatch(downTb.unavailable, /next attempt/, 'a stable reason, not the backoff of the moment');
    const wrongTb = await waitFor(
      async () => ((await tb('ssh-wrong')).state === 'unavailable' ? tb('ssh-wrong') : undefined),
      'ssh-wrong unavailable',
      30_000,
    );
    t.match(wrongTb.unavailable, /refused host key .* does not match/);
    const why = (await api.call('POST', '/v1/explain', { body: { target: 't-down' } })).body;
    t.match(
      why.testbeds.find((x: { name: string }) => x.name === 'ssh-down'),
      { serves: true, free: false, reasons: [{ kind: 'unavailable', message: /its host cannot be used/ }] },
    );
    for (const j of [stuck, wrongJob])
      t.equal((await user.get<{ state: string }>(`/0/job/${j}`)).state, 'queued', 'its job waits');
    const okHist = (await api.call('GET', '/v1/testbeds/ssh-ok/history?limit=100')).body.events as Array<{
      kind: string;
      message: string;
    }>;
    t.match(
      okHist.find((e) => e.kind === 'check-passed')?.message,
      /all 1 device\(s\) healthy/,
      'its health check ran through the runner on the remote host',
    );
    t.ok(
      existsSync(join(remote, '_testbeds', 'ssh-ok', 'testbed.json')),
      'against the description copied to the remote workdir',
    );
    const hist = (await api.call('GET', '/v1/testbeds/ssh-down/history?limit=100')).body.events as Array<{
      kind: string;
    }>;
    t.equal(hist.filter((e) => e.kind === 'unavailable').length, 1, 'journalled once, not on every pass');
    t.match((await tb('ssh-ok')).agent, { mode: 'ssh', host: '127.0.0.1' });
  },
);

// The factory's own reconciliation (Factory.tick, in process) with an SSH testbed: the TOML agent
// table as the factory parses it, the real `mvm agent` started over a real sshd, a job end to
// end; then a job cut off mid-run (connection killed) and the factory restarted: the agent is
// found again, and when the job is cancelled nothing is left on the remote side.
// Needs the compiled dist/ (`npx tsc -p .`). MVM_TEST_LOG=1 prints the factory's and executor's logs.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../shared/api/types.js';
import { FactoryClient } from '../../shared/buildomat/factory.js';
import { createLogger, silentLogger } from '../../shared/log.js';
import { loadConfig } from '../../factory/config/load.js';
import { FactoryStore } from '../../factory/store.js';
import { resolveTargets } from '../../factory/targets.js';
import { Factory } from '../../factory/tick.js';
import { sshExecutorsFor } from '../../factory/executor/ssh/executor.js';
import { SshPool } from '../../factory/executor/ssh/pool.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { sshAgentLine, sshdForFile, type Sshd } from '../helpers/sshd.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

/** Live (non-zombie) processes in process group `pgid`, seen on the "remote" host. */
function groupMembers(pgid: number): number[] {
  const r = spawnSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, g, s]) => Number(g) === pgid && !s!.startsWith('Z'))
    .map(([p]) => Number(p));
}

async function setup(t: { teardown(fn: () => void | Promise<void>): void }, sshd: Sshd, srv: TestServer) {
  const dir = tempDir(t, 'mvm-factory-ssh-');
  const targetId = await srv.createTarget('bitaxe');
  const factoryToken = await srv.createFactory('lab');
  const userToken = await srv.createUser('tester');
  const configFile = join(dir, 'factory.toml');
  writeFileSync(
    configFile,
    [
      '[general]',
      `baseurl = "${srv.url}"`,
      `admin_token = "${srv.adminToken}"`,
      '[factory]',
      `token = "${factoryToken}"`,
      'stop_grace = "2s"',
      '[health]',
      'enabled = false',
      '[target.bitaxe]',
      '[testbed.bench-ssh]',
      'targets = ["bitaxe"]',
      'enabled = true',
      'baseline = "v2.9.0"',
      sshAgentLine(sshd, join(dir, 'remote')),
      '[testbed.bench-ssh.devices.miner]',
      'driver = "axeos"',
      'hardware = "601"',
      'address = "http://127.0.0.1:18699"',
      '',
    ].join('\n'),
  );
  const config = loadConfig(configFile);
  const store = FactoryStore.open(join(dir, 'factory.sqlite3'));
  t.teardown(() => store.close());
  store.syncTestbeds(config.testbeds);
  const client = new FactoryClient({ baseUrl: config.baseUrl, token: config.token });
  const targets = await resolveTargets(config);
  const user = srv.client(userToken);
  /** A factory process's worth of objects: a restart is a new one on the same store. */
  const start = () => {
    const pool = new SshPool({ backoffBaseMs: 200, backoffMaxMs: 1000 });
    const executors = sshExecutorsFor(config.testbeds, {
      pool,
      pollIntervalMs: 500,
      ...(process.env.MVM_TEST_LOG ? { log: createLogger({ name: 'ssh' }) } : {}),
    });
    const factory = new Factory({
      config,
      store,
      client,
      targets,
      executorFor: (n) => executors.get(n)!,
      log: process.env.MVM_TEST_LOG ? createLogger({ name: 'factory' }) : silentLogger(),
    });
    const stop = async () => {
      for (const e of executors.values()) await e.close();
      await pool.close();
    };
    t.teardown(stop);
    return { factory, executor: executors.get('bench-ssh')!, stop };
  };
  return {
    config,
    store,
    client,
    targetId,
    start,
    submit: (script: string) => srv.submitJob(userToken, { target: 'bitaxe', script }),
    job: (id: string) => user.get<Job>(`/0/job/${id}`),
    cancel: (id: string) => user.post(`/0/jobs/${id}/cancel`),
  };
}

const sshd = sshdForFile(t, 'the SSH factory tests');
if (sshd) {
  t.test('a job end to end through an SSH testbed, driven by the factory', async (t) => {
    const srv = await startServer(t, { args: ['--tick', '200ms'] });
    const lab = await setup(t, sshd, srv);
    t.match(
      lab.config.testbeds[0]!.agent,
      { mode: 'ssh', host: '127.0.0.1', port: sshd.port },
      'the factory parses the ssh agent table',
    );
    const { factory, executor } = lab.start();
    const jobId = await lab.submit('cat "$MVM_TESTBED"');
    await waitFor(async () => (await factory.tick({ lease: true })).started === 1, 'the agent started', 30_000, 100);
    const [inst] = lab.store.liveInstances();
    const desc = JSON.parse(readFileSync(join(executor.workdir(inst!.id), 'testbed.json'), 'utf8'));
    t.match(
      desc,
      { version: 1, testbed: 'bench-ssh', instance: inst!.id, target: 'bitaxe' },
      'testbed.json copied to the remote workdir',
    );
    await waitFor(
      async () => {
        await factory.tick({ lease: true });
        return lab.store.instance(inst!.id)?.state === 'destroyed';
      },
      'the instance destroyed after the job',
      60_000,
      200,
    );
    t.equal((await lab.job(jobId)).state, 'completed');
    t.match(lab.store.instance(inst!.id), { failure: null, workerDeleted: true });
    t.same(await lab.client.listWorkers(), []);
  });

  t.test('connection cut mid-job and factory restarted: agent found again; on cancel nothing is left', async (t) => {
    const srv = await startServer(t, { args: ['--tick', '200ms'] });
    const lab = await setup(t, sshd, srv);
    const first = lab.start();
    const jobId = await lab.submit('echo started; sleep 1000');
    await waitFor(
      async () => {
        await first.factory.tick({ lease: true });
        return lab.store.liveInstances()[0]?.state === 'running';
      },
      'the instance running',
      30_000,
      100,
    );
    const inst = lab.store.liveInstances()[0]!;
    const workdir = first.executor.workdir(inst.id);
    const task = await waitFor(
      () => {
        try {
          return JSON.parse(readFileSync(join(workdir, 'running-task.json'), 'utf8')) as { pgid: number };
        } catch {
          return undefined;
        }
      },
      'the task running',
      30_000,
    );
    const agentPgid = inst.agentPgid!;
    const remote = [...groupMembers(agentPgid), ...groupMembers(task.pgid)];
    t.ok(groupMembers(task.pgid).length > 0, 'the task runs in its own group on the remote host');
    t.teardown(() => {
      for (const g of [agentPgid, task.pgid]) {
        try {
          process.kill(-g, 'SIGKILL');
        } catch {
          /* gone, as it should be */
        }
      }
    });

    // the connection dies and the factory process with it
    for (const pid of sshd.connectionPids()) process.kill(pid, 'SIGKILL');
    await first.stop();
    t.ok(groupMembers(agentPgid).length > 0, 'the remote agent outlived both');

    const second = lab.start();
    await second.factory.tick({ lease: true });
    t.equal(
      lab.store.instance(inst.id)?.state,
      'running',
      'after the restart the instance is still running: its agent was found',
    );
    t.equal(await second.executor.isRunning(inst.id, { pid: agentPgid, pgid: agentPgid, startedAt: 0 }), true);

    await lab.cancel(jobId);
    await waitFor(
      async () => {
        await second.factory.tick({ lease: true });
        return lab.store.instance(inst.id)?.state === 'destroyed';
      },
      'the instance destroyed after the cancel',
      60_000,
      200,
    );
    t.ok(
      lab.store.instance(inst.id)?.stopOutcome,
      `stop outcome recorded: ${lab.store.instance(inst.id)?.stopOutcome}`,
    );
    t.same([...groupMembers(agentPgid), ...groupMembers(task.pgid)], [], `no process left of ${remote.join(', ')}`);
    t.match((await lab.job(jobId)).state, /failed|cancelled|completed/);
  });
}

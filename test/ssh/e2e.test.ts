// A job end to end through an SSH testbed: a real `mvm server`, the factory's steps done by hand
// (lease, create worker, associate, flush), and the real `mvm agent` started on the "remote" host
// through sshd by the SshExecutor. Needs the compiled dist/ (`npx tsc -p .`).
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { FactoryLeaseResult, FactoryWorker, FactoryWorkerResult, Job, JobOutput } from '../../shared/api/types.js';
import { SshExecutor } from '../../factory/executor/ssh/executor.js';
import { SshPool } from '../../factory/executor/ssh/pool.js';
import { startServer } from '../helpers/server.js';
import { startSshd, sshdUnavailable } from '../helpers/sshd.js';
import { waitFor, mvmBin } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

const why = sshdUnavailable();
if (why) {
  t.comment(`skipping the SSH end-to-end test: ${why}`);
  t.plan(0, why);
} else {
  t.test('a job runs through an SSH testbed with the real agent', async (t) => {
    const sshd = await startSshd(t);
    const srv = await startServer(t, { args: ['--tick', '200ms'] });
    const targetId = await srv.createTarget('bitaxe');
    const userToken = await srv.createUser('alice');
    const user = srv.client(userToken);
    const factory = srv.client(await srv.createFactory('lab'));
    const jobId = await srv.submitJob(userToken, {
      target: 'bitaxe',
      script:
        'echo "hello from $(jq -r .testbed "$MVM_TESTBED" 2>/dev/null || cat "$MVM_TESTBED")"; cp "$MVM_TESTBED" "$MVM_OUTPUT_DIR/testbed.json"',
      output_rules: ['/work/output/**/*'],
    });

    const lease = await factory.post<FactoryLeaseResult>('/0/factory/lease', { supported_targets: [targetId] });
    t.equal(lease.lease?.job, jobId);
    const w = await factory.post<FactoryWorker>('/0/factory/worker', {
      target: targetId,
      job: jobId,
      wait_for_flush: true,
    });
    const instanceId = '01JE2ESSHINSTANCE000000000';
    await factory.patch(`/0/factory/worker/${w.id}`, { private: instanceId });

    const pool = new SshPool();
    const exec = new SshExecutor({
      placement: {
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        identityFile: sshd.identityFile,
        knownHosts: sshd.knownHosts,
        remoteWorkdir: tempDir(t, 'mvm-e2e-remote-'),
        remoteCommand: [process.execPath, mvmBin()],
      },
      pool,
      testbed: 'bench-ssh',
      pollIntervalMs: 250,
    });
    t.teardown(async () => {
      await exec.stop(instanceId, undefined, 2000).catch(() => undefined);
      await exec.close();
      await pool.close();
    });
    const exits: string[] = [];
    exec.onExit((id) => exits.push(id));
    t.match(await exec.check(), { version: /^\d+\.\d+\.\d+/ }, 'the remote mvm passes the preflight');
    const testbed = { version: 1 as const, testbed: 'bench-ssh', instance: instanceId, target: 'bitaxe', devices: [] };
    const handle = await exec.start({ instanceId, url: srv.url, bootstrap: w.bootstrap, testbed });

    const log = () => {
      try {
        return readFileSync(`${exec.workdir(instanceId)}/agent.log`, 'utf8')
          .split('\n')
          .slice(-15)
          .join('\n');
      } catch {
        return '(no agent.log)';
      }
    };
    await waitFor(
      async () => (await factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.online,
      `the agent online; agent.log:\n${log()}`,
      30_000,
    );
    await factory.post(`/0/factory/worker/${w.id}/flush`);
    const job = await waitFor(
      async () => {
        const j = await user.get<Job>(`/0/job/${jobId}`).catch(() => undefined);
        return j && (j.state === 'completed' || j.state === 'failed') ? j : undefined;
      },
      'the job to finish',
      60_000,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}\nagent.log:\n${log()}`);
    });
    t.equal(job.state, 'completed', job.state === 'completed' ? 'the job completed' : `agent.log:\n${log()}`);
    const outs = await user.get<JobOutput[]>(`/0/jobs/${jobId}/outputs`);
    t.match(
      outs,
      [{ path: '/work/output/testbed.json' }],
      'the testbed description reached the task and came back as output',
    );

    await waitFor(() => exits.includes(instanceId), 'the remote agent to exit after its job', 30_000).catch(() =>
      t.comment('the agent did not exit by itself'),
    );
    t.equal(await exec.isRunning(instanceId, handle), false, 'the agent is gone');
    t.same(exec.exitStatus(instanceId), { code: 0, signal: null }, 'it exited 0 after its job');
    t.match(await exec.stop(instanceId, handle, 2000), { outcome: 'gone' });
  });
}

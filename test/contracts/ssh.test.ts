// The contracts over a real sshd with the stand-in `mvm` (test/ssh/fake-mvm.ts): the remote
// agent.pid is the same JSON as the local one; the host's status is JSON the factory validates,
// and running-task.json is read by its contract, not by a pattern over its text; a timeout is a
// TimeoutError (code TIMEOUT) whatever the command, an abort is ABORTED, and the executor's
// bound on host commands is its own option.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshExecutor } from '../../factory/executor/ssh/executor.js';
import { SshPool } from '../../factory/executor/ssh/pool.js';
import type { SshTarget } from '../../factory/executor/ssh/connection.js';
import { agentStatus, startAgent, stopAgent } from '../../factory/executor/ssh/remote-agent.js';
import { agentPidContract } from '../../shared/contracts/agent-pid.js';
import { MvmError, TimeoutError } from '../../shared/errors.js';
import { sshdForFile, sshTargetOf } from '../helpers/sshd.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { fakeAgentState, fakeMvmPlacement, installFakeMvm, killLeftovers, type FakeMvm } from '../ssh/fake-mvm.js';

const sshd = sshdForFile(t, 'the SSH contract tests');
if (sshd) {
  let fake: FakeMvm;
  let base: string;
  let pool: SshPool;
  t.before(() => {
    base = tempDir(t, 'mvm-contracts-');
    fake = installFakeMvm(base);
    pool = new SshPool({ backoffBaseMs: 200, backoffMaxMs: 2000 });
  });
  t.teardown(() => pool.close());
  const target = (): SshTarget => sshTargetOf(sshd);

  t.test('agent.pid is one JSON format; running-task.json is read by its contract', async (t) => {
    const workdir = join(base, 'instances', '01JCONTRACTSSH');
    t.teardown(() => killLeftovers(workdir));
    const conn = await pool.host(target()).get({ wait: true });
    const handle = await startAgent(conn, {
      remoteCommand: [fake.path],
      workdir,
      url: 'http://127.0.0.1:9300',
      bootstrap: 'b',
    });
    const pidFile = join(workdir, 'agent.pid');
    const pf = agentPidContract.parse(readFileSync(pidFile, 'utf8'), pidFile);
    t.match(pf, { pid: handle.pid, pgid: handle.pid, boot_id: handle.bootId });
    // The line an earlier mvm's launcher wrote: an agent started before an upgrade is still known.
    writeFileSync(pidFile, `${handle.pid} ${handle.bootId}\n`);
    t.match(await agentStatus(conn, workdir), { running: true, pid: handle.pid }, 'the earlier format is read');
    writeFileSync(pidFile, `${handle.pid} ${handle.bootId} extra\n`);
    t.match(await agentStatus(conn, workdir), { pid: undefined }, 'anything else is not trusted');
    writeFileSync(pidFile, JSON.stringify(pf) + '\n');

    const state = (await waitFor(
      () =>
        fakeAgentState(workdir).taskPid && existsSync(join(workdir, 'running-task.json'))
          ? fakeAgentState(workdir)
          : undefined,
      'the stand-in agent and its task',
      15_000,
    ))!;
    // A record whose other fields also say "pgid": only its own pgid field names the task group.
    writeFileSync(
      join(workdir, 'running-task.json'),
      JSON.stringify({ pgid: state.taskPid, job: '01JFAKEJOB', task: 0, note: { pgid: state.childPid } }) + '\n',
    );
    t.same(await agentStatus(conn, workdir), {
      running: true,
      pid: handle.pid,
      taskPgid: state.taskPid,
      exitCode: undefined,
    });
    // A record that breaks the contract (a torn write, say) names no group to signal.
    writeFileSync(join(workdir, 'running-task.json'), `{"pgid": ${state.taskPid}, "job": "01J`);
    t.match(await agentStatus(conn, workdir), { running: true, pid: handle.pid, taskPgid: undefined });
    writeFileSync(
      join(workdir, 'running-task.json'),
      JSON.stringify({ pgid: state.taskPid, job: '01JFAKEJOB', task: 0 }) + '\n',
    );
    t.same(await stopAgent(conn, workdir, 500), { outcome: 'killed', taskPgid: state.taskPid });
    t.same(await agentStatus(conn, workdir), {
      running: false,
      pid: undefined,
      taskPgid: undefined,
      exitCode: undefined,
    });
  });

  t.test('a timeout is a TimeoutError, an abort is ABORTED', async (t) => {
    const conn = await pool.host(target()).get({ wait: true });
    const timedOut = await conn.exec(['sleep', '30'], { timeoutMs: 300 }).catch((e: unknown) => e);
    t.ok(timedOut instanceof TimeoutError, 'typed');
    t.match(timedOut, {
      code: 'TIMEOUT',
      retryable: true,
      timeoutMs: 300,
      message: /`sleep 30` did not finish within 300 ms/,
    });
    const ac = new AbortController();
    const aborted = conn.exec(['sleep', '30'], { signal: ac.signal, timeoutMs: 60_000 });
    setImmediate(() => ac.abort());
    const err = await aborted.catch((e: unknown) => e);
    t.ok(err instanceof MvmError && !(err instanceof TimeoutError), 'an abort is not a timeout');
    t.match(err, { code: 'ABORTED' });
    t.ok(conn.alive, 'the connection survives both');
  });

  t.test("every executor method ends with the caller's signal or the executor's own bound", async (t) => {
    const placement = fakeMvmPlacement(sshd, base, fake);
    const quick = new SshExecutor({ placement, pool, testbed: 'bench-quick', commandTimeoutMs: 1 });
    const handle = { pid: 99999, pgid: 99999, startedAt: 0 };
    await pool.host(quick.target).get({ wait: true });
    for (const [name, call] of [
      ['isRunning', () => quick.isRunning('01JX', handle)],
      ['adopt', () => quick.adopt('01JX')],
      ['infraReport', () => quick.infraReport('01JX')],
    ] as const) {
      const err = await call().catch((e: unknown) => e);
      t.ok(err instanceof TimeoutError, `${name}: a 1 ms bound on host commands is a TimeoutError`);
    }
    const ex = new SshExecutor({ placement, pool, testbed: 'bench-abort' });
    const aborted = AbortSignal.abort(new Error('draining'));
    for (const [name, call] of [
      ['isRunning', () => ex.isRunning('01JX', handle, aborted)],
      ['adopt', () => ex.adopt('01JX', aborted)],
      ['stop', () => ex.stop('01JX', handle, 1000, aborted)],
      ['infraReport', () => ex.infraReport('01JX', aborted)],
      ['cleanup', () => ex.cleanup('01JX', aborted)],
    ] as const) {
      await t.rejects(
        async () => {
          await call();
        },
        { code: 'ABORTED' },
        `${name} takes the signal`,
      );
    }
  });
}

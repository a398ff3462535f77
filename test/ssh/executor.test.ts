// The SSH executor over a real sshd with the stand-in `mvm`: check() reasons and their pacing,
// idempotent start, isRunning, onExit when the remote agent ends, adoption by a fresh executor
// (a factory restart), stop with nothing left behind.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshExecutor, type SshPlacementLike } from '../../factory/executor/ssh/executor.js';
import { SshPool } from '../../factory/executor/ssh/pool.js';
import { sshdForFile } from '../helpers/sshd.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { fakeAgentState, fakeMvmPlacement, installFakeMvm, killLeftovers, type FakeMvm } from './fake-mvm.js';

const sshd = sshdForFile(t, 'the SSH executor tests');
if (sshd) {
  let fake: FakeMvm;
  let base: string;
  t.before(() => {
    base = tempDir(t, 'mvm-remote-');
    fake = installFakeMvm(base);
  });
  const placement = (over: Partial<SshPlacementLike> = {}) => fakeMvmPlacement(sshd, base, fake, over);
  const spec = (instanceId: string) => ({
    instanceId,
    url: 'http://127.0.0.1:9300',
    bootstrap: 'bootstrap-secret-' + instanceId,
    testbed: { version: 1 as const, testbed: 'bench-ssh', instance: instanceId, target: 'bitaxe', devices: [] },
  });
  const alive = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/^\d+ \(.*\) Z/.test(stat);
    } catch {
      return false;
    }
  };

  t.test('check() gives the reason a host cannot be used, without retrying in a tight loop', async (t) => {
    const pool = new SshPool({ backoffBaseMs: 60_000 });
    t.teardown(() => pool.close());
    const down = new SshExecutor({ placement: placement({ port: 1 }), pool, testbed: 'bench-down' });
    await t.rejects(down.check(), { failure: 'unreachable', message: /connection refused/ });
    await t.rejects(down.check(), { failure: 'unreachable', message: /next attempt in \d+ s/ }, 'paced by the backoff');

    const noMvm = new SshExecutor({
      placement: placement({ remoteCommand: ['/nonexistent/mvm'] }),
      pool,
      testbed: 'bench-nomvm',
    });
    await t.rejects(noMvm.check(), { failure: 'remote', message: /cannot be run/ });
    await t.rejects(noMvm.start(spec('01JNOPE')), { failure: 'remote', message: /cannot be run/ }, 'start refuses too');

    const ok = new SshExecutor({ placement: placement(), pool, testbed: 'bench-ok' });
    t.same(await ok.check(), { version: '0.1.0' });
    t.equal(ok.workdir('01JX'), join(base, 'agents', '01JX'));
  });

  t.test('start (idempotent), isRunning, onExit, adopt after a restart, stop', async (t) => {
    const pool = new SshPool();
    const exec = new SshExecutor({ placement: placement(), pool, testbed: 'bench-ssh', pollIntervalMs: 200 });
    t.teardown(async () => {
      await exec.close();
      await pool.close();
    });
    const exits: string[] = [];
    exec.onExit((id) => exits.push(id));

    const a = '01JAAAAAAAAAAAAAAAAAAAAAAA';
    const b = '01JBBBBBBBBBBBBBBBBBBBBBBB';
    t.teardown(() => killLeftovers(exec.workdir(a)));
    t.teardown(() => killLeftovers(exec.workdir(b)));
    const ha = await exec.start(spec(a));
    t.equal((await exec.start(spec(a))).pid, ha.pid, 'a second start returns the running agent');
    const hb = await exec.start(spec(b));
    const sa = await waitFor(
      () => (fakeAgentState(exec.workdir(a)).taskPid ? fakeAgentState(exec.workdir(a)) : undefined),
      'agent a',
      15_000,
    );
    await waitFor(() => fakeAgentState(exec.workdir(b)).taskPid, 'agent b', 15_000);
    t.equal(sa.bootstrap, spec(a).bootstrap);
    t.ok(existsSync(join(exec.workdir(a), 'testbed.json')), 'testbed.json copied');
    t.equal(await exec.isRunning(a, ha), true);

    // agent b ends by itself, with status 3
    t.equal(exec.exitStatus(b), undefined);
    writeFileSync(join(exec.workdir(b), 'fake-exit'), '3\n');
    await waitFor(() => exits.includes(b), 'onExit for agent b', 15_000);
    t.equal(await exec.isRunning(b, hb), false);
    t.same(exec.exitStatus(b), { code: 3, signal: null }, 'its exit status is known');
    t.same(exits, [b], 'only b ended');

    // a factory restart: new pool, new executor, same placement
    const pool2 = new SshPool();
    const exec2 = new SshExecutor({ placement: placement(), pool: pool2, testbed: 'bench-ssh', pollIntervalMs: 200 });
    t.teardown(async () => {
      await exec2.close();
      await pool2.close();
    });
    const adopted = await exec2.adopt(a);
    t.equal(adopted?.pid, ha.pid, 'the running agent is adopted');
    t.equal(await exec2.adopt(b), undefined, 'the ended one is not');
    t.equal(await exec2.adopt('01JNEVERSTARTED'), undefined);

    const r = await exec2.stop(a, adopted, 1000);
    t.same(r, { outcome: 'killed', taskPgid: sa.taskPid });
    for (const pid of [sa.agentPid!, sa.childPid!, sa.taskPid!, sa.taskChildPid!])
      t.notOk(alive(pid), `pid ${pid} is gone`);
    t.equal(await exec2.isRunning(a, ha), false);
    t.same(await exec2.stop(a, undefined, 1000), { outcome: 'gone' });
  });
}

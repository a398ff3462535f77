// Fault: the agent SIGKILLed mid-task, under a real factory. The factory sees its agent die: the
// instance is destroyed as a failure, the task group the agent left running is stopped, the
// worker deleted (so the server fails the job), and the testbed is free for the next job.
// Nothing ran twice (the tasks count their runs in a file) and nothing of the agent's tree lives on.
import t from 'tap';
import { hostPids } from '../helpers/pid-namespace.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/mvm-process.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { groupAlive, processAlive } from '../../shared/process-tree.js';
import { liveWithEnv, MARK_ENV } from './lib/procs.js';
import { payloads, startFaultLab } from './lib/stack.js';

t.test(
  'agent kill -9 mid-task: worker failed, job failed, nothing ran twice, testbed freed, no process left',
  async (t) => {
    const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
    const factory = await lab.factory();
    const runs = join(lab.dir, 'runs.log');
    // The first task leaves a grandchild too (a background sleep), to show the whole tree is stopped.
    const job = await lab.submitTasks('bitaxe', [
      { name: 'long', script: `echo long >> '${runs}'\nsleep 300 &\necho "pids $$ $!"\nwait` },
      { name: 'after', script: `echo after >> '${runs}'` },
    ]);
    const pidsLine = await waitFor(
      async () => payloads(await lab.events(job), 'stdout').find((p) => p.startsWith('pids ')),
      'the task to start',
      60_000,
      100,
    );
    // In a PID namespace (where the host allows) the task printed the namespace's pids.
    const printed = pidsLine!.split(' ').slice(1).map(Number);
    const host = hostPids(printed, lab.dir);
    const [taskPid, grandchild] = printed.map((p) => (host.length === printed.length ? nsToHost(p, lab.dir) : p));
    const [row] = liveRows(lab.dbFile);
    t.match(row, { state: 'running', testbed: 'gamma-1' });
    const agentPid = row.agent_pid!;
    t.ok(processAlive(taskPid) && processAlive(grandchild), 'the task and its child run');
    // The leak check below is only as good as the marker: the agent and the task's tree carry it.
    const marked = liveWithEnv(MARK_ENV, lab.mark);
    t.ok(
      [agentPid, taskPid, grandchild].every((p) => marked.includes(p)),
      'the agent, the task and its child carry the leak marker',
    );

    process.kill(agentPid, 'SIGKILL'); // the agent alone: its task group lives on, as after an OOM kill

    const done = await lab.waitJob(job, ['completed', 'failed'], 30_000);
    t.equal(done.state, 'failed', 'the job failed');
    await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 30_000, 100);
    t.match(
      allRows(lab.dbFile),
      [{ id: row.id, state: 'destroyed', reason: 'agent died', failure: /agent process ended \(killed by SIGKILL\)/ }],
      'destroyed as a failure: the agent died',
    );
    t.same(await lab.workers(), [], 'the worker was deleted');
    const control = payloads(await lab.events(job), 'control').join('\n');
    t.match(control, /destroyed by its factory|failed without completing/, 'the server says why the job failed');
    t.match(
      control,
      /mvm factory: agent died: agent process ended \(killed by SIGKILL\)/,
      "the agent's death is in the job's log",
    );
    t.notOk(processAlive(taskPid), 'the orphaned task was stopped');
    t.notOk(processAlive(grandchild), "the task's child was stopped");
    t.notOk(groupAlive(taskPid), "nothing is left in the task's process group");
    t.equal(readFileSync(runs, 'utf8'), 'long\n', 'the first task ran once and the second never');

    // The testbed is free again: the next job runs on it, once.
    const next = await lab.submitTasks('bitaxe', [{ name: 'again', script: `echo next >> '${runs}'` }]);
    t.equal(
      (await lab.waitJob(next, ['completed', 'failed'], 60_000)).state,
      'completed',
      'the testbed took the next job',
    );
    await waitFor(() => liveRows(lab.dbFile).length === 0, 'the second instance destroyed', 30_000, 100);
    t.match(
      allRows(lab.dbFile).map((r) => r.testbed),
      ['gamma-1', 'gamma-1'],
    );
    t.equal(readFileSync(runs, 'utf8'), 'long\nnext\n', 'nothing ran twice');
    t.equal(await factory.stop(), 0);
    await lab.noLeaks(t);
  },
);

/** The host pid of one namespace pid (hostPids keeps the host's order, not the printed one). */
function nsToHost(pid: number, needle: string): number {
  return hostPids([pid], needle)[0]!;
}

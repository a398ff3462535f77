// Acceptance: outages and crashes. The server killed mid-job loses no event and duplicates none;
// an agent killed mid-job and restarted reports worker failure and runs nothing twice.
import t from 'tap';
import { procGroup } from '../../factory/executor/proc.js';
import { hostPids } from '../helpers/pid-namespace.js';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FactoryWorkerResult } from '../../shared/api/types.js';
import { processAlive as isAlive } from '../../shared/process-tree.js';
import { waitFor } from '../helpers/mvm-process.js';
import { agentLog, startLab } from './harness.js';

t.test('server killed and restarted mid-job: every event exactly once, in order', async (t) => {
  const lab = await startLab(t);
  const go = join(lab.dir, 'go');
  const script = [
    'for i in $(seq 1 200); do echo "line $i"; done',
    `until [ -f ${go} ]; do sleep 0.05; done`,
    // Printed while the server is down: more than the agent keeps in memory.
    'for i in $(seq 201 8000); do echo "line $i ................................................................................................"; done',
    'echo "done" >&2',
  ].join('\n');
  const job = await lab.submit({ script });
  const w = await lab.worker(job);
  const workdir = join(lab.dir, 'agent');
  const agent = lab.startAgent(w.bootstrap, workdir, ['--spool-memory', '65536']);
  await waitFor(
    async () => agentLog(await lab.events(job)).includes('stdout[0]: line 200'),
    'the first lines on the server',
    30_000,
    100,
  );

  await lab.srv.proc.kill9();
  writeFileSync(go, '');
  // The task finishes during the outage; the agent holds its output, partly on disk.
  await waitFor(() => !existsSync(join(workdir, 'running-task.json')), 'the task to end during the outage', 30_000, 50);
  await agent.waitForLine(/event delivery failed; retrying/, 30_000);
  const spool = join(workdir, 'jobs', job, 'events.spool');
  t.ok(existsSync(spool) && statSync(spool).size > 0, 'events spilled to the spool file in the workdir');

  await lab.srv.restart();
  t.equal(await agent.exited, 0, 'the agent finishes the job once the server is back');
  t.equal((await lab.waitDone(job)).state, 'completed');
  const log = agentLog(await lab.events(job));
  const lines = log.filter((l) => l.startsWith('stdout[0]: line '));
  t.equal(lines.length, 8000, 'no line lost or duplicated');
  t.ok(
    lines.every((l, i) => l.startsWith(`stdout[0]: line ${i + 1}`) && (i < 200 || l.endsWith('.'))),
    'in order',
  );
  t.equal(log.filter((l) => l === 'stderr[0]: done').length, 1);
  t.equal(
    log.filter((l) => /^task\[0\]: process exited: duration \d+ ms, exit code 0$/.test(l)).length,
    1,
    'one exit event',
  );
  t.equal(log.at(-1), 'worker: found 0 output files');
  t.notOk(existsSync(spool), 'the spool file is removed at the end');
});

t.test('agent killed mid-job and restarted: worker failed, job failed, nothing ran twice', async (t) => {
  const lab = await startLab(t);
  const runs = join(lab.dir, 'runs.log');
  const job = await lab.submit({
    tasks: [
      { name: 'long', env_clear: false, env: {}, script: `echo run >> ${runs}\necho "pid $$"\nsleep 300` },
      { name: 'after', env_clear: false, env: {}, script: `echo after >> ${runs}` },
    ],
  });
  const w = await lab.worker(job);
  const workdir = join(lab.dir, 'agent');
  const first = lab.startAgent(w.bootstrap, workdir);
  await waitFor(
    async () => agentLog(await lab.events(job)).some((l) => l.startsWith('stdout[0]: pid ')),
    'the task to start',
    30_000,
    100,
  );
  const printed = Number(
    agentLog(await lab.events(job))
      .find((l) => l.startsWith('stdout[0]: pid '))!
      .split(' ')
      .at(-1),
  );
  // In a PID namespace (where the host allows) the task printed the namespace's pid.
  const [taskPid] = hostPids([printed], lab.dir);
  const rec = JSON.parse(readFileSync(join(workdir, 'running-task.json'), 'utf8'));
  t.same(Object.keys(rec).sort(), ['job', 'mark', 'pgid', 'task']);
  t.match(rec, { job, task: 0, mark: /^task-[0-9a-f-]{36}$/ }, 'the task and the mark its processes carry');
  t.equal(procGroup(taskPid!), rec.pgid, "the recorded process group is the task's");

  await first.kill9();
  t.ok(isAlive(taskPid), 'the task survives its agent (its own process group)');
  const second = lab.startAgent(w.bootstrap, workdir);
  t.equal(await second.exited, 0, 'the restarted agent reports the failure and exits on poweroff');
  await second.waitForLine(/reporting worker failure instead of running it again/);

  const j = await lab.waitDone(job);
  t.equal(j.state, 'failed', 'the job failed');
  t.equal(readFileSync(runs, 'utf8'), 'run\n', 'the first task ran once and the second never');
  t.notOk(isAlive(taskPid), 'the orphaned task was stopped');
  t.notOk(existsSync(join(workdir, 'running-task.json')));
  const fw = await lab.factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`);
  t.ok(!fw.worker || fw.worker.recycle, 'the worker is failed (recycled)');
});

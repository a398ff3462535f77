// Acceptance: cancellation and SIGTERM stop the task's whole process tree within the grace period.
import t from 'tap';
import { join } from 'node:path';
import type { Job } from '../../shared/api/types.js';
import { processAlive as isAlive } from '../../shared/process-tree.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { waitFor } from '../helpers/mvm-process.js';
import { hostPids } from '../helpers/pid-namespace.js';
import { agentLog, startLab, type Lab } from './harness.js';

// A task whose children ignore SIGTERM: only SIGKILL to the group ends them all.
const STUBBORN = [
  'trap "" TERM',
  '(trap "" TERM; sleep 300 & echo "grandchild $!"; wait) &',
  'echo "child $!"',
  'echo "pid $$"',
  'echo partial > "$MVM_OUTPUT_DIR/partial.txt"',
  'while true; do sleep 1; done',
].join('\n');

async function treePids(lab: Lab, job: string): Promise<number[]> {
  const pids = await waitFor<number[] | undefined>(
    async () => {
      const ls = agentLog(await lab.events(job)).filter((l) => /^stdout\[0\]: (pid|child|grandchild) \d+$/.test(l));
      return ls.length === 3 ? ls.map((l) => Number(l.split(' ').at(-1))) : undefined;
    },
    'the task tree to start',
    30_000,
    100,
  );
  // In a PID namespace (where the host allows) the task printed the namespace's pids.
  const host = hostPids(pids!, lab.dir);
  if (host.length !== pids!.length) throw new Error(`only ${host.length} of the task's pids found on the host`);
  for (const p of host) if (!isAlive(p)) throw new Error(`pid ${p} is not running`);
  return host;
}

t.test('cancel: the whole process tree is gone within the grace period; the agent exits', async (t) => {
  const lab = await startLab(t);
  const proxy = await startConformanceProxy(lab.srv.url);
  t.teardown(() => proxy.close());
  const job = await lab.submit({ script: STUBBORN, output_rules: ['/work/output/*'] });
  const w = await lab.worker(job);
  const agent = lab.startAgent(w.bootstrap, join(lab.dir, 'agent'), [], proxy.url); // --grace 1s --busy-ping 500ms
  const pids = await treePids(lab, job);
  const t0 = Date.now();
  await lab.user.post(`/0/jobs/${job}/cancel`);
  // Noticing takes at most one busy ping (0.5 s); then SIGTERM, 1 s of grace, SIGKILL; the
  // deadline adds room for a loaded machine.
  await waitFor(() => pids.every((p) => !isAlive(p)), 'every process of the task to be gone', 500 + 1000 + 3000, 20);
  t.comment(`the tree was gone ${Date.now() - t0} ms after the cancel`);
  t.equal(await agent.exited, 0, 'the agent exits');
  const j = await lab.job(job);
  t.equal(j.cancelled, true);
  t.equal(j.state, 'failed');
  for (const p of pids) t.notOk(isAlive(p), `pid ${p} did not survive`);
  t.same(proxy.violations, [], 'what the agent sent while stopping matches the spec too');
});

t.test('SIGTERM to the agent: tree stopped, outputs uploaded, job completed as failed', async (t) => {
  const lab = await startLab(t);
  const job = await lab.submit({ script: STUBBORN, output_rules: ['/work/output/*'] });
  const w = await lab.worker(job);
  const agent = lab.startAgent(w.bootstrap, join(lab.dir, 'agent'));
  const pids = await treePids(lab, job);
  agent.child.kill('SIGTERM');
  t.equal(await agent.exited, 0, 'the agent exits after cleaning up');
  for (const p of pids) t.notOk(isAlive(p), `pid ${p} did not survive`);
  const j: Job = await lab.waitDone(job);
  t.equal(j.state, 'failed');
  const log = agentLog(await lab.events(job));
  t.ok(log.includes('worker: uploaded: /work/output/partial.txt'), 'what the task wrote was uploaded');
  t.ok(log.includes('worker: job stopped: the agent received SIGTERM'), 'the log says why the job stopped');
  t.match(
    log.find((l) => l.startsWith('task[0]: process exited')),
    /exit code 137$/,
  );
  const outputs = await lab.outputs(job);
  t.same(
    outputs.map((o) => [o.path, o.body.toString()]),
    [['/work/output/partial.txt', 'partial\n']],
  );
});

t.test('poweroff (the factory deletes the worker mid-job): tree stopped, agent exits', async (t) => {
  const lab = await startLab(t);
  const job = await lab.submit({ script: STUBBORN });
  const w = await lab.worker(job);
  const agent = lab.startAgent(w.bootstrap, join(lab.dir, 'agent'));
  const pids = await treePids(lab, job);
  await lab.factory.delete(`/0/factory/worker/${w.id}`);
  t.equal(await agent.exited, 0, 'the agent exits');
  for (const p of pids) t.notOk(isAlive(p), `pid ${p} did not survive`);
  await agent.waitForLine(/the worker no longer exists|the server asked for poweroff/);
});

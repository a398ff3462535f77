// Fault: a job cancelled in the window between the factory leasing it and its agent's first ping
// (the agent is slow to start). Found by burst.test.ts, where cancelling a few hundred jobs under
// a busy factory left an instance holding its testbed with an idle agent. The server only assigns
// a job to a bootstrapped worker, so the cancelled job never reaches the worker and the worker is
// never recycled; the server then keeps it for whatever job comes next (as buildomat does). The
// factory sees an online, unrecycled worker and keeps the instance "running" — holding the
// testbed — until another job arrives or instance_deadline passes. doc/architecture.md says a
// cancelled job sends its instance to destroying.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MVM_BIN } from '../../shared/paths.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { liveRows } from '../factory/lab.js';
import { startFaultLab } from './lib/stack.js';

const TODO = 'factory/tick.ts validateOne destroys only when the worker is gone or recycled (or a deadline passed): an instance whose leased job ended before its worker got it stays running with an idle agent (reported: factory)';

t.test('a job cancelled before its agent started: the instance ends and the testbed is freed', async (t) => {
  // The agent command waits for a gate file before exec'ing the real agent: a slow agent start.
  const dir = tempDir(t, 'mvm-slow-agent-');
  const go = join(dir, 'go');
  const slow = ['/bin/bash', '-c', `while [ ! -e '${go}' ]; do sleep 0.05; done; exec "$0" "$@"`, process.execPath, MVM_BIN, 'agent', 'run', '--busy-ping', '1s'];
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }], agentCommand: slow });
  const factory = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [{ name: 'never', script: 'echo ran' }]);
  await waitFor(() => liveRows(lab.dbFile).some((r) => r.agent_pid !== null), 'the agent process started (and waiting)', 30_000, 50);
  await lab.user.post(`/0/jobs/${job}/cancel`);
  t.equal((await lab.waitJob(job, ['failed'], 10_000)).state, 'failed', 'the job ended, cancelled');
  writeFileSync(go, '');
  await waitFor(() => liveRows(lab.dbFile).some((r) => r.state === 'running'), 'the agent online', 30_000, 50);
  // What should happen: the instance is destroyed within a few passes, the testbed free again.
  const freed = await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 5_000, 100).then(
    () => true,
    () => false,
  );
  t.ok(freed, 'the instance of the cancelled job was destroyed within 5 s (10 passes)', { todo: freed ? false : TODO });
  if (!freed) {
    // What happens instead: the idle worker is kept for whatever comes next, and serves it.
    const next = await lab.submitTasks('bitaxe', [{ name: 'next', script: 'echo next' }]);
    t.equal((await lab.waitJob(next, ['completed', 'failed'], 30_000)).state, 'completed', "the idle instance's worker ran the next job");
    await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed after the next job', 30_000, 100);
  }
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

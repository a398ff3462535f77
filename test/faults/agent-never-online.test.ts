// Fault: an agent command that never brings its worker online. The factory
// used to destroy the instance after agent_online_timeout and lease the job again, forever, with
// nothing in the job's log. Now, after agent_start_attempts (default 2) such instances, the job
// fails with an event saying why, and the testbed takes the next job (once its check passes).
import t from 'tap';
import { waitFor } from '../helpers/mvm-process.js';
import { allRows, jobEvents, liveRows } from '../factory/fixture.js';
import { startFaultLab } from './lib/stack.js';

t.test('a job whose agent never comes online fails after two attempts, saying why', async (t) => {
  const lab = await startFaultLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    agentCommand: ['/bin/bash', '-c', 'sleep 600', 'x'],
    factoryKeys: 'agent_online_timeout = "1500ms"',
  });
  const factory = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [{ name: 'never', script: 'echo ran' }]);
  const failed = await lab.waitJob(job, ['failed', 'completed'], 90_000);
  t.equal(failed.state, 'failed', 'the job failed instead of being leased forever');
  const rows = allRows(lab.dbFile).filter((r) => (r as { job?: string }).job === job);
  t.equal(rows.length, 2, 'two instances (agent_start_attempts = 2), not more');
  // Each instance's reason, so a failure shows which one ended otherwise.
  t.same(
    rows.map((r) => r.reason),
    ['agent never came online', 'agent never came online'],
    'both instances ended because their agent never came online',
  );
  const events = await jobEvents(lab, job);
  t.ok(
    events.some((e) =>
      /agent never came online 2 time\(s\) for this job \(agent_start_attempts = 2\); failing the job/.test(e.payload),
    ),
    'the job log says why',
  );
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'the last instance destroyed', 30_000, 100);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

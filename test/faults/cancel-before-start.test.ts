// Fault: a job cancelled in the window between the factory leasing it and its agent's first ping
// (the agent is slow to start). Found by burst.test.ts, where cancelling a few hundred jobs under a
// busy factory left an instance holding its testbed with an idle agent: the server assigns a job
// only to a bootstrapped worker, so the cancelled job never reached it. The factory now sees its
// lease renewal refused while the agent is not yet online, destroys the instance (stopping the
// agent that was still starting) and frees the testbed; the next job gets it.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { agentProcessStarted, gatedAgentCommand, startFaultLab } from './lib/stack.js';

t.test('a job cancelled before its agent started: the instance ends and the testbed is freed', async (t) => {
  // The agent command waits for a gate file before exec'ing the real agent: a slow agent start.
  const dir = tempDir(t, 'mvm-slow-agent-');
  const go = join(dir, 'go');
  const slow = gatedAgentCommand(go);
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }], agentCommand: slow });
  const factory = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [{ name: 'never', script: 'echo ran' }]);
  await agentProcessStarted(lab);
  await lab.user.post(`/0/jobs/${job}/cancel`);
  t.equal((await lab.waitJob(job, ['failed'], 10_000)).state, 'failed', 'the job ended, cancelled');
  const freed = await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 10_000, 100).then(
    () => true,
    () => false,
  );
  t.ok(freed, 'the instance of the cancelled job was destroyed while its agent was still starting');
  t.match(
    allRows(lab.dbFile).at(-1),
    { reason: /ended or went elsewhere before the agent came online/, failure: null },
    'not an infrastructure failure',
  );
  writeFileSync(go, ''); // a gate opened late starts nothing: the agent's group was stopped
  const next = await lab.submitTasks('bitaxe', [{ name: 'next', script: 'echo next' }]);
  t.equal(
    (await lab.waitJob(next, ['completed', 'failed'], 30_000)).state,
    'completed',
    'the testbed takes the next job',
  );
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'the next instance destroyed', 30_000, 100);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

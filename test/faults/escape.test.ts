// Task children that leave the task's process group (setsid, a subshell that setsids, one that
// ignores SIGTERM) do not outlive the job: under a real factory and agent, the agent finds them
// by the mark every task process inherits, stops them and says what escaped, before the task is
// completed. Before, they ran on after the job (`setsid sleep 303 &`).
import t from 'tap';
import { liveWithCmdline } from './lib/procs.js';
import { waitFor } from '../helpers/mvm-process.js';
import { liveRows } from '../factory/fixture.js';
import { payloads, startFaultLab } from './lib/stack.js';

t.test('setsid children are stopped with the task and reported', async (t) => {
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const factory = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [
    {
      name: 'escaper',
      script: [
        'setsid sleep 303 &',
        '( setsid sh -c \'trap "" TERM; sleep 304; true\' & )',
        "setsid bash -c 'exec sleep 305' &",
        'sleep 0.5',
        'echo started',
      ].join('\n'),
    },
    { name: 'after', script: 'echo second task' },
  ]);
  const done = await lab.waitJob(job, ['completed', 'failed'], 120_000);
  t.equal(done.state, 'completed', 'the job itself succeeded');
  // Checked at once: the agent stopped them before completing the task, not the factory later.
  t.same(liveWithCmdline('sleep\u000030'), [], 'no setsid child is left when the job is complete');
  const events = await lab.events(job);
  t.same(payloads(events, 'stdout'), ['started', 'second task']);
  const warning = payloads(events, 'worker').find((p) => p.includes('outside its process group'));
  t.match(
    warning,
    /^exec warning: stopped [3-9] processes the task left running outside its process group \(setsid\): .*sleep 303.*/,
    'what escaped is reported',
  );
  t.match(warning, /sleep 304/);
  t.match(warning, /sleep 305/);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t, 5000);
});

t.test('an agent killed mid-task: the factory stops the setsid child too', async (t) => {
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const factory = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [
    { name: 'long', script: 'setsid sleep 306 &\nsleep 0.3\necho running\nsleep 300' },
  ]);
  await waitFor(
    async () => payloads(await lab.events(job), 'stdout').includes('running'),
    'the task to run',
    60_000,
    100,
  );
  t.equal(liveWithCmdline('sleep\u0000306').length, 1, 'the setsid child runs');
  process.kill(liveRows(lab.dbFile)[0].agent_pid!, 'SIGKILL');
  t.equal((await lab.waitJob(job, ['completed', 'failed'], 60_000)).state, 'failed');
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 30_000, 100);
  t.same(liveWithCmdline('sleep\u0000306'), [], 'the setsid child was stopped with the task group');
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t, 5000);
});

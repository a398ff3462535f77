// Fault: the job server SIGKILLed mid-job and kept down for 60 s, then started again on the same
// port and data folder. A real factory and a real agent ride it out: the job completes, its event
// log on the server is complete, in order and without duplicates, and the factory kept its one
// instance (same instance, same worker, same agent: nothing was started twice).
import t from 'tap';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/mvm-process.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { liveWithEnv, MARK_ENV } from './lib/procs.js';
import { assertSeqs, payloads, startFaultLab } from './lib/stack.js';

const OUTAGE_MS = 60_000;

t.test('server down 60 s mid-job: the job completes with every event exactly once', async (t) => {
  // A small event memory so that the outage's output spills to the agent's disk spool.
  const lab = await startFaultLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    agentArgs: ['--spool-memory', '65536'],
  });
  const factory = await lab.factory();
  const gate = join(lab.dir, 'finish');
  const pad = '.'.repeat(400);
  // Prints steadily (the job's own pacing, not the test's) until the test opens the gate, then
  // says how many lines it printed, so the test knows exactly what the log must hold.
  const job = await lab.submitTasks('bitaxe', [
    {
      name: 'steady',
      script: `i=0\nwhile [ ! -e '${gate}' ]; do i=$((i+1)); echo "line $i ${pad}"; sleep 0.01; done\necho "total $i"`,
    },
  ]);

  await waitFor(
    async () => payloads(await lab.events(job), 'stdout').length >= 50,
    'the first lines on the server',
    60_000,
    100,
  );
  const [before] = liveRows(lab.dbFile);
  t.equal(before.state, 'running', 'the instance runs the job');
  const agentDir = join(lab.instancesDir, before.id);
  const agentLog = () => readFileSync(join(agentDir, 'agent.log'), 'utf8');

  t.ok(liveWithEnv(MARK_ENV, lab.mark).includes(before.agent_pid!), 'the agent carries the leak marker');
  const killedAt = Date.now();
  t.equal(await lab.srv.proc.kill9(), 'SIGKILL', 'the server was SIGKILLed mid-job');
  // While it is down: the agent notices and keeps the output, spilling it to disk.
  await waitFor(
    () => agentLog().includes('event delivery failed; retrying'),
    'the agent to notice the outage',
    20_000,
    100,
  );
  const spool = join(agentDir, 'jobs', job, 'events.spool');
  await waitFor(() => existsSync(spool) && statSync(spool).size > 0, 'events spilled to the disk spool', 40_000, 100);
  t.pass('the agent spilled events to its disk spool during the outage');
  // The outage itself is the fault under test, so its length is a duration, not a synchronisation.
  await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - killedAt))));
  t.same(
    liveRows(lab.dbFile).map((r) => [r.id, r.worker_id, r.agent_pid, r.state]),
    [[before.id, before.worker_id, before.agent_pid, 'running']],
    'the factory kept its instance through the outage',
  );

  await lab.srv.restart();
  t.ok(Date.now() - killedAt >= OUTAGE_MS, `the server was down ${Math.round((Date.now() - killedAt) / 1000)} s`);
  writeFileSync(gate, '');
  const done = await lab.waitJob(job, ['completed', 'failed'], 60_000);
  t.equal(done.state, 'completed', 'the job completed');

  const events = await lab.events(job);
  assertSeqs(t, events);
  const out = payloads(events, 'stdout');
  const total = Number(/^total (\d+)$/.exec(out.at(-1) ?? '')?.[1]);
  t.ok(total > 100, `the task printed ${total} lines`);
  const lines = out.slice(0, -1);
  t.equal(lines.length, total, 'every line reached the server exactly once (none lost, none duplicated)');
  const misplaced = lines.findIndex((l, i) => l !== `line ${i + 1} ${pad}`);
  t.equal(
    misplaced,
    -1,
    misplaced === -1 ? 'in order' : `line ${misplaced} is ${JSON.stringify(lines[misplaced]?.slice(0, 30))}`,
  );
  const times = events.filter((e) => e.stream !== 'control').map((e) => e.time_remote!);
  t.equal(
    new Set(events.map((e) => `${e.stream}|${e.task}|${e.time_remote}|${e.payload}`)).size,
    events.length,
    'no event twice',
  );
  t.ok(
    times.every((x, i) => i === 0 || x >= times[i - 1]),
    'agent times never go backwards',
  );
  t.equal(payloads(events, 'task').filter((p) => p.startsWith('starting task')).length, 1, 'the task started once');
  t.match(agentLog(), /event delivery resumed/, 'the agent saw the server come back');

  // The instance ends normally: one instance, one worker, one agent for the whole run.
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 30_000, 100);
  const rows = allRows(lab.dbFile);
  t.match(
    rows,
    [{ id: before.id, worker_id: before.worker_id, state: 'destroyed', failure: null }],
    'exactly one instance, destroyed without failure',
  );
  t.equal(
    agentLog()
      .split('\n')
      .filter((l) => l.includes('bootstrapped as worker')).length,
    1,
    'one agent bootstrapped, once',
  );
  t.same(await lab.workers(), [], 'no worker left on the server');
  t.notOk(existsSync(spool), 'the spool file was removed');
  t.equal(await factory.stop(), 0, 'the factory exits cleanly');
  await lab.noLeaks(t);
});

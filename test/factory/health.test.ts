// Health monitoring, one pass at a time: an agent that never comes online, an instance past its
// deadline, an agent that cannot start, and an agent that dies mid-job are all destroyed, and
// their testbed made unknown (an infrastructure failure) and checked before it takes work again.
// Health checks are off here (the devices are fake), so a check passes at once; the journal shows
// the order. test/factory/testbed-health-e2e.test.ts runs real checks against simulators.
import t from 'tap';
import { join } from 'node:path';
import { groupAlive } from '../../shared/process-tree.js';
import { processAlive as isAlive } from './fixture.js';
import type { FactoryConfig } from '../../factory/config/types.js';
import { FactoryStore } from '../../factory/store.js';
import { Factory } from '../../factory/tick.js';
import { waitFor } from '../helpers/mvm-process.js';
import { projectPath } from '../../shared/paths.js';
import { heldScript, startLab, type Lab } from './fixture.js';
import { inProcessFactory } from './in-process.js';

const setup = (t: { teardown(fn: () => void): void }, lab: Lab, patch: Partial<FactoryConfig>) =>
  inProcessFactory(t, lab, { patch, dbFile: join(lab.dir, `${Math.random().toString(36).slice(2)}.sqlite3`) });

/** The infrastructure failure that made the testbed unknown, and whether a check came after it. */
function flagged(store: FactoryStore, testbed = 'gamma-1'): { message: string; checkedAfter: boolean } | undefined {
  const h = store.testbedHistory(testbed, 100).reverse();
  const at = h.findIndex((e) => e.kind === 'health-unknown');
  if (at < 0) return undefined;
  return { message: h[at].message, checkedAfter: h.slice(at).some((e) => e.kind === 'check-passed') };
}

async function tickUntilDestroyed(factory: Factory, store: FactoryStore): Promise<void> {
  await waitFor(
    async () => {
      await factory.tick({ lease: true });
      const all = store.recentInstances(10);
      return all.length > 0 && all.every((i) => i.state === 'destroyed');
    },
    'the instance destroyed',
    30_000,
    100,
  );
}

let lab: Lab;
t.before(async () => {
  lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
});

t.test('a worker never online within agent_online_timeout', async (t) => {
  const { store, factory, client } = await setup(t, lab, {
    agentCommand: [process.execPath, projectPath('test', 'fixtures', 'agents', 'idle-agent.mjs')],
    agentOnlineTimeoutMs: 1000,
    agentStartAttempts: 2,
  });
  const job = await lab.submit('bitaxe', 'true');
  await factory.tick({ lease: true });
  const [i] = store.liveInstances();
  t.ok(i.agentPid && isAlive(i.agentPid));
  await tickUntilDestroyed(factory, store);
  const d = store.instance(i.id)!;
  t.equal(d.reason, 'agent never came online');
  t.match(d.failure, /worker not online .* after creation/);
  await waitFor(() => !isAlive(i.agentPid!), 'the idle agent stopped');
  t.match(
    flagged(store),
    { message: /agent never came online/, checkedAfter: true },
    'unknown, then checked before new work',
  );
  t.same(await client.listWorkers(), []);
  // The job was never assigned: it waits for another testbed.
  t.equal((await lab.job(job)).state, 'queued');
  await lab.user.post(`/0/jobs/${job}/cancel`);
});

t.test('an instance past instance_deadline', async (t) => {
  const { store, factory } = await setup(t, lab, { instanceDeadlineMs: 2500 });
  const job = await lab.submit('bitaxe', heldScript(join(lab.dir, 'never')));
  await tickUntilDestroyed(factory, store);
  const [d] = store.recentInstances(1);
  t.equal(d.reason, 'instance deadline passed');
  t.ok(d.runningAt, 'it had been running');
  t.match(flagged(store), { message: /instance deadline passed/ });
  t.equal((await lab.waitJob(job, ['failed', 'completed'])).state, 'failed', 'the job fails with its worker');
});

t.test('an agent that cannot start', async (t) => {
  const { store, factory } = await setup(t, lab, { agentCommand: [join(lab.dir, 'no-such-agent')] });
  const job = await lab.submit('bitaxe', 'true');
  await factory.tick({ lease: true });
  const [d] = store.recentInstances(1);
  t.equal(d.state, 'destroyed', 'destroyed in the same pass');
  t.equal(d.reason, 'agent failed to start');
  t.match(d.failure, /cannot start the agent/);
  t.match(flagged(store), { message: /agent failed to start/ });
  await lab.user.post(`/0/jobs/${job}/cancel`);
});

t.test('a testbed whose agents keep failing to start is checked after a backoff, not at once', async (t) => {
  const { store, factory } = await setup(t, lab, {
    agentCommand: [join(lab.dir, 'no-such-agent')],
    agentStartAttempts: 5,
  });
  const jobs = [await lab.submit('bitaxe', 'true'), await lab.submit('bitaxe', 'true')];
  await waitFor(
    async () => {
      await factory.tick({ lease: true });
      return store.recentInstances(5).filter((i) => i.reason === 'agent failed to start').length >= 2;
    },
    'two failed agent starts',
    30_000,
    100,
  );
  const tb = store.testbed('gamma-1')!;
  t.equal(tb.health, 'unknown');
  t.ok(
    (tb.nextCheckAt ?? 0) - Date.now() > 30_000,
    'the next check waits (retry 1m after the second failure in a row)',
  );
  t.match(
    store.testbedHistory('gamma-1', 5).find((e) => e.kind === 'health-unknown')?.message,
    /next check in 1m: it keeps failing/,
  );
  for (const j of jobs) await lab.user.post(`/0/jobs/${j}/cancel`).catch(() => undefined);
});

t.test('an agent that dies mid-job', async (t) => {
  const { store, factory } = await setup(t, lab, {});
  // (The pause lets the agent write running-task.json before it is killed.)
  const job = await lab.submit('bitaxe', 'sleep 0.5; kill -9 $MVM_AGENT_PID; sleep 30');
  await tickUntilDestroyed(factory, store);
  const [d] = store.recentInstances(1);
  t.equal(d.reason, 'agent died');
  t.match(d.failure, /agent process ended \(killed by SIGKILL\)/);
  t.match(d.stopOutcome, /task group \d+ too/, 'the task group it left behind was stopped too');
  const taskGroup = Number(/task group (\d+)/.exec(d.stopOutcome ?? '')?.[1]);
  t.equal(groupAlive(taskGroup), false, 'no process of the task group survives');
  t.match(flagged(store), { message: /agent died/ });
  t.equal((await lab.waitJob(job, ['failed', 'completed'])).state, 'failed');
});

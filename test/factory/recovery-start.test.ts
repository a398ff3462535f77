// Restart recovery while an instance is being set up: the factory is SIGKILLed at each named step
// between leasing a job and its agent coming online, then started again.
import t from 'tap';
import { join } from 'node:path';
import { bootstraps, crashAt, recover } from './recovery.js';
import { startFactory, startLab, type Lab } from './fixture.js';

let lab: Lab;
t.before(async () => {
  lab = await startLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    serverArgs: ['--lease-timeout', '2s'],
  });
});

t.test('after-lease: nothing recorded; the job is leased again', async (t) => {
  const c = await crashAt(t, lab, 'after-lease', false);
  t.same(c.rows, []);
  t.same(c.workers, []);
  await recover(t, lab, c);
});

t.test('after-create-worker: the unassociated worker is an orphan, deleted in the first pass', async (t) => {
  const c = await crashAt(t, lab, 'after-create-worker', false);
  t.same(c.rows, []);
  t.equal(c.workers.length, 1);
  t.equal(c.workers[0].private ?? null, null);
  await recover(t, lab, c);
});

t.test('after-record-instance: the created instance is associated and started by the next pass', async (t) => {
  const c = await crashAt(t, lab, 'after-record-instance', false);
  t.match(c.rows, [{ state: 'created', associated: 0, agent_pid: null }]);
  t.equal(c.workers[0].private ?? null, null);
  await recover(t, lab, c);
  t.equal(bootstraps(join(lab.dir, c.point), c.rows[0].id), 1, 'one agent for the instance');
});

t.test('after-associate: the instance goes on from the association', async (t) => {
  const c = await crashAt(t, lab, 'after-associate', false);
  t.match(c.rows, [{ state: 'created', agent_pid: null }]);
  t.equal(c.workers[0].private, c.rows[0].id);
  await recover(t, lab, c);
});

t.test('after-start-agent: the running but unrecorded agent is adopted, not started twice', async (t) => {
  const c = await crashAt(t, lab, 'after-start-agent', false);
  t.match(c.rows, [{ state: 'created', agent_pid: null }]);
  t.equal(c.liveAgents.length, 1, 'the agent outlived the factory');
  await recover(t, lab, c);
  t.equal(bootstraps(join(lab.dir, c.point), c.rows[0].id), 1, 'exactly one agent bootstrapped');
});

t.test('after-mark-running: the live agent is adopted and its job completes', async (t) => {
  const c = await crashAt(t, lab, 'after-mark-running', false);
  t.match(c.rows, [{ state: 'running' }]);
  t.equal(c.liveAgents.length, 1);
  await recover(t, lab, c);
  t.equal(bootstraps(join(lab.dir, c.point), c.rows[0].id), 1);
});

t.test('after-delete-orphan: the journal entry is lost, nothing else; the restart finds no orphan', async (t) => {
  const dir = join(lab.dir, 'after-delete-orphan');
  const dbFile = join(dir, 'factory.sqlite3');
  await lab.factoryApi.post('/0/factory/worker', { target: lab.targetIds.get('bitaxe'), wait_for_flush: false });
  const f = await startFactory(lab, { env: { MVM_FAULT_POINT: 'after-delete-orphan' }, dbFile, wait: false });
  t.equal(await f.exited, 'SIGKILL');
  t.same(await lab.factoryApi.get('/0/factory/workers'), [], 'the orphan was deleted before the kill');
  const f2 = await startFactory(lab, { dbFile });
  t.same(await lab.factoryApi.get('/0/factory/workers'), []);
  t.equal(await f2.stop(), 0);
});

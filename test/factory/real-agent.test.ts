// The factory with the real `mvm agent run` (its default agent command), against `mvm server`.
import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FactoryWorker } from '../../shared/api/types.js';
import { processAlive as isAlive } from './fixture.js';
import { waitFor } from '../helpers/mvm-process.js';
import { allRows, heldScript, jobEvents, liveRows, startFactory, startLab } from './fixture.js';

t.test('a job runs through the real agent, which reads the testbed description', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }], realAgent: true });
  const f = await startFactory(lab);
  const job = await lab.submit('bitaxe', 'cat "$MVM_TESTBED"');
  const done = await lab.waitJob(job, ['completed', 'failed'], 60_000);
  t.equal(done.state, 'completed');
  const out = (await jobEvents(lab, job))
    .filter((e) => e.stream === 'stdout')
    .map((e) => e.payload)
    .join('\n');
  t.match(out, /"testbed": "gamma-1"/, 'the task saw the testbed description');
  t.match(out, /"driver": "axeos"/);
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instance destroyed', 20_000, 50);
  const [row] = allRows(lab.dbFile);
  t.match(row, { state: 'destroyed', failure: null });
  const workdir = join(lab.dir, 'instances', row.id);
  t.notOk(existsSync(join(workdir, 'jobs')), "the ended instance's job files are removed");
  t.ok(
    existsSync(join(workdir, 'agent.log')) && existsSync(join(workdir, 'testbed.json')),
    'its agent log and testbed description stay',
  );
  t.same(await lab.factoryApi.get<FactoryWorker[]>('/0/factory/workers'), []);
  t.equal(await f.stop(), 0);
});

t.test('a real agent survives a factory kill -9 and is adopted', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }], realAgent: true });
  const f1 = await startFactory(lab);
  const gate = join(lab.dir, 'go');
  const job = await lab.submit('bitaxe', heldScript(gate));
  await waitFor(() => liveRows(lab.dbFile).some((r) => r.state === 'running'), 'instance running', 30_000, 50);
  const [row] = liveRows(lab.dbFile);
  t.equal(await f1.kill9(), 'SIGKILL');
  t.ok(row.agent_pid && isAlive(row.agent_pid), 'the agent outlived the factory');
  const f2 = await startFactory(lab);
  t.teardown(() => f2.stop());
  t.same(
    liveRows(lab.dbFile).map((r) => [r.id, r.agent_pid]),
    [[row.id, row.agent_pid]],
    'same instance, same agent',
  );
  writeFileSync(gate, '');
  t.equal((await lab.waitJob(job, ['completed', 'failed'], 60_000)).state, 'completed');
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instance destroyed', 20_000, 50);
  t.equal(isAlive(row.agent_pid!), false);
});

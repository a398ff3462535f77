// `mvm factory` as a real process against a real `mvm server`, with the scripted agent.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FactoryWorker } from '../../shared/api/types.js';
import { processAlive as isAlive } from './fixture.js';
import { runMvm, waitFor } from '../helpers/mvm-process.js';
import { allRows, heldScript, liveRows, startFactory, startLab, testbedOfJob } from './fixture.js';

t.test('a job runs on a testbed that serves its target; status --json shows it', async (t) => {
  const lab = await startLab(t, {
    testbeds: [
      { name: 'nano-1', targets: ['avalon'] },
      { name: 'gamma-1', targets: ['bitaxe'] },
    ],
  });
  const f = await startFactory(lab);
  const gate = join(lab.dir, 'go');
  const job = await lab.submit('bitaxe', heldScript(gate));
  await waitFor(() => liveRows(lab.dbFile).some((r) => r.state === 'running'), 'instance running', 20_000, 50);

  const st = await runMvm(['factory', 'status', '-d', lab.dbFile, '--json']);
  t.equal(st.code, 0, st.stderr);
  const s = JSON.parse(st.stdout);
  t.match(s.testbeds, [
    { name: 'gamma-1', state: 'busy', enabled: true },
    { name: 'nano-1', state: 'free', instance: null },
  ]);
  t.match(s.instances, [{ testbed: 'gamma-1', state: 'running', seq: 1, target: lab.targetIds.get('bitaxe') }]);
  t.match(s.counts, { running: 1, destroyed: 0 });
  const text = await runMvm(['factory', 'status', '-d', lab.dbFile]);
  t.match(text.stdout, /gamma-1\s+busy/);

  writeFileSync(gate, '');
  const done = await lab.waitJob(job, ['completed', 'failed']);
  t.equal(done.state, 'completed');
  t.equal(await testbedOfJob(lab, job), 'gamma-1');
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instance destroyed', 20_000, 50);
  t.same(await lab.factoryApi.get<FactoryWorker[]>('/0/factory/workers'), [], 'worker deleted');

  // SIGTERM with nothing live: drains at once and exits cleanly.
  t.equal(await f.stop(), 0);
});

t.test('two concurrent jobs never share a testbed; a third waits for a free one', async (t) => {
  const lab = await startLab(t, {
    testbeds: [
      { name: 'gamma-1', targets: ['bitaxe'] },
      { name: 'gamma-2', targets: ['bitaxe'] },
    ],
  });
  const f = await startFactory(lab);
  t.teardown(() => f.stop());
  const gates = [0, 1, 2].map((n) => join(lab.dir, `go-${n}`));
  const jobs = [];
  for (const g of gates) jobs.push(await lab.submit('bitaxe', heldScript(g)));
  await waitFor(
    () => liveRows(lab.dbFile).filter((r) => r.state === 'running').length === 2,
    'two instances running',
    20_000,
    50,
  );
  const live = liveRows(lab.dbFile);
  t.same(live.map((r) => r.testbed).sort(), ['gamma-1', 'gamma-2'], 'one instance per testbed');
  const states = await Promise.all(jobs.map((j) => lab.job(j)));
  t.equal(states.filter((j) => j.state === 'queued').length, 1, 'the third job is still queued');

  for (const g of gates) writeFileSync(g, '');
  for (const j of jobs) t.equal((await lab.waitJob(j, ['completed', 'failed'])).state, 'completed');
  const ran = await Promise.all(jobs.map((j) => testbedOfJob(lab, j)));
  t.ok(
    ran.every((x) => x === 'gamma-1' || x === 'gamma-2'),
    `ran on ${ran.join(', ')}`,
  );
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'all instances destroyed', 20_000, 50);
  const rows = allRows(lab.dbFile);
  t.equal(rows.length, 3);
  // No two instances on one testbed overlapped: seqs are 1, 2 on one testbed and 1 on the other.
  t.same(
    rows.map((r) => r.state),
    ['destroyed', 'destroyed', 'destroyed'],
  );
  for (const r of rows) t.notOk(r.agent_pid !== null && isAlive(r.agent_pid), 'agent gone');
});

t.test('a job for a target with no enabled testbed waits', async (t) => {
  const lab = await startLab(t, {
    testbeds: [
      { name: 'gamma-1', targets: ['bitaxe'] },
      { name: 'nano-1', targets: ['avalon'], enabled: false },
    ],
  });
  const f = await startFactory(lab);
  t.teardown(() => f.stop());
  const waiting = await lab.submit('avalon', 'true');
  const other = await lab.submit('bitaxe', 'true');
  t.equal((await lab.waitJob(other, ['completed', 'failed'])).state, 'completed', 'other work goes on');
  t.equal((await lab.job(waiting)).state, 'queued', 'the avalon job still waits');
  t.same(
    liveRows(lab.dbFile).filter((r) => r.testbed === 'nano-1'),
    [],
  );
});

t.test('SIGTERM drains: no new leases, the running job finishes, then the factory exits', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const f = await startFactory(lab);
  const gate = join(lab.dir, 'go');
  const first = await lab.submit('bitaxe', heldScript(gate));
  await waitFor(() => liveRows(lab.dbFile).some((r) => r.state === 'running'), 'instance running', 20_000, 50);
  f.child.kill('SIGTERM');
  await f.waitForLine(/no longer leasing/, 10_000);
  const second = await lab.submit('bitaxe', 'true');
  writeFileSync(gate, '');
  t.equal(await f.exited, 0, 'exits 0 once drained');
  t.equal((await lab.job(first)).state, 'completed');
  t.equal((await lab.job(second)).state, 'queued', 'nothing new was leased while draining');
  t.same(liveRows(lab.dbFile), []);
});

t.test('a second signal stops at once; the agent keeps running and the next start adopts it', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const f = await startFactory(lab);
  const gate = join(lab.dir, 'go');
  const job = await lab.submit('bitaxe', heldScript(gate));
  await waitFor(() => liveRows(lab.dbFile).some((r) => r.state === 'running'), 'instance running', 20_000, 50);
  const [row] = liveRows(lab.dbFile);
  f.child.kill('SIGTERM');
  await f.waitForLine(/no longer leasing/, 10_000);
  f.child.kill('SIGTERM');
  t.equal(await f.exited, 0, 'exits at once on the second signal');
  t.ok(isAlive(row.agent_pid!), 'the agent was left running');
  t.same(
    liveRows(lab.dbFile).map((r) => r.state),
    ['running'],
  );
  const f2 = await startFactory(lab);
  t.teardown(() => f2.stop());
  writeFileSync(gate, '');
  t.equal((await lab.waitJob(job, ['completed', 'failed'])).state, 'completed');
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instance destroyed', 20_000, 50);
});

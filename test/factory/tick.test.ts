// tick() called directly, in-process, against a real `mvm server`: the phases one pass at a time.
import t from 'tap';
import { join } from 'node:path';
import { waitFor } from '../helpers/mvm-process.js';
import { startLab } from './fixture.js';
import { inProcessFactory } from './in-process.js';
import { readFileSync } from 'node:fs';

t.test('one pass leases, starts the agent; later passes mark running and clean up', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'bench-1', targets: ['bitaxe'] }] });
  const { store, factory, client, executor } = await inProcessFactory(t, lab);

  const r0 = await factory.tick({ lease: true });
  t.equal(r0.leased, 0, 'nothing queued');

  const job = await lab.submit('bitaxe', 'cat "$MVM_TESTBED"');
  const r1 = await factory.tick({ lease: true });
  t.equal(r1.leased, 1);
  t.equal(r1.started, 1);
  const [inst] = store.liveInstances();
  t.match(inst, {
    testbed: 'bench-1',
    seq: 1,
    state: 'created',
    associated: true,
    target: lab.targetIds.get('bitaxe'),
  });
  t.ok(inst.agentPid, 'agent pid recorded');
  const desc = JSON.parse(readFileSync(join(executor.workdir(inst.id), 'testbed.json'), 'utf8'));
  t.match(desc, { version: 1, testbed: 'bench-1', instance: inst.id, target: 'bitaxe', baseline: 'v2.9.0' });
  t.equal(desc.devices[0].driver, 'axeos');
  const w = await client.getWorker(inst.workerId);
  t.equal(w?.private, inst.id, 'private = instance id');

  // Passes until the job ends and the instance comes to rest.
  await waitFor(
    async () => {
      await factory.tick({ lease: true });
      return store.instance(inst.id)?.state === 'destroyed';
    },
    'instance destroyed',
    30_000,
    100,
  );
  const done = store.instance(inst.id)!;
  t.ok(done.runningAt, 'it went through running');
  t.equal(done.workerDeleted, true);
  t.equal(done.failure, null);
  t.equal((await lab.job(job)).state, 'completed');
  t.same(await client.listWorkers(), [], 'no worker left on the server');
  t.same(store.freeTestbeds(true), ['bench-1'], 'the testbed is free again');
  t.same(
    store.eventsFor(inst.id).map((e) => e.kind),
    [
      'created',
      'associated',
      'agent-started',
      'running',
      'destroying',
      'agent-stopped',
      'worker-deleted',
      'restore-skipped',
      'destroyed',
    ],
  );
});

t.test('a job for a target with no enabled testbed waits', async (t) => {
  const lab = await startLab(t, {
    testbeds: [
      { name: 'bench-1', targets: ['bitaxe'] },
      { name: 'nano-1', targets: ['avalon'], enabled: false },
    ],
  });
  const { store, factory } = await inProcessFactory(t, lab);
  const job = await lab.submit('avalon', 'true');
  for (let i = 0; i < 3; i++) t.equal((await factory.tick({ lease: true })).leased, 0);
  t.same(store.liveInstances(), []);
  t.equal((await lab.job(job)).state, 'queued', 'still queued');
});

t.test('orphaned workers are deleted within one pass', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'bench-1', targets: ['bitaxe'] }] });
  const { factory, client } = await inProcessFactory(t, lab);
  const target = lab.targetIds.get('bitaxe')!;
  const unassociated = await client.createWorker({ target });
  const stranger = await client.createWorker({ target });
  await client.associate(stranger.id, { private: '01JUNKNOWNINSTANCE0000000000' });
  const r = await factory.tick({ lease: false });
  t.equal(r.orphansDeleted, 2);
  t.same(await client.listWorkers(), []);
  t.ok(unassociated.id);
});

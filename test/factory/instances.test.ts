// The state module: stored spellings, allowed and illegal transitions, one live instance per testbed.
import t from 'tap';
import { join } from 'node:path';
import { IllegalTransitionError } from '../../shared/errors.js';
import { INSTANCE_STATES } from '../../factory/db/schema.js';
import { canTransition, FactoryStore, liveInstancesQuery } from '../../factory/store.js';
import { tempDir } from '../helpers/tmp.js';

function store(t: { teardown(fn: () => void): void }, now?: () => number): FactoryStore {
  const s = FactoryStore.open(join(tempDir(t), 'f.sqlite3'), now);
  t.teardown(() => s.close());
  s.syncTestbeds([
    { name: 'bench-1', enabled: true },
    { name: 'bench-2', enabled: true },
  ]);
  // New testbeds are unknown until a check passes; these tests start from healthy ones.
  for (const name of ['bench-1', 'bench-2']) {
    s.health.beginCheck(name, `c-${name}`);
    s.health.finishCheck(name, `c-${name}`, true, 'fixture');
  }
  return s;
}

t.test('the stored spellings of instance states are fixed', async (t) => {
  t.same([...INSTANCE_STATES], ['created', 'running', 'destroying', 'destroyed']);
  const s = store(t);
  const i = s.createInstance({ testbed: 'bench-1', target: 'T', workerId: 'W1' });
  const raw = () =>
    (s.opened.sqlite.prepare('select state from instances where id = ?').get(i.id) as { state: string }).state;
  t.equal(raw(), 'created');
  s.markRunning(i.id);
  t.equal(raw(), 'running');
  s.markDestroying(i.id, { reason: 'job over' });
  t.equal(raw(), 'destroying');
  s.markDestroyed(i.id);
  t.equal(raw(), 'destroyed');
});

t.test('transitions: allowed ones pass, illegal ones throw a typed error', async (t) => {
  t.ok(canTransition('created', 'running'));
  t.ok(canTransition('created', 'destroying'));
  t.ok(canTransition('running', 'destroying'));
  t.ok(canTransition('destroying', 'destroyed'));
  t.notOk(canTransition('running', 'created'));
  t.notOk(canTransition('destroyed', 'running'));
  t.notOk(canTransition('created', 'destroyed'), 'no skipping the clean-up');
  const s = store(t);
  const i = s.createInstance({ testbed: 'bench-1', target: 'T', workerId: 'W1' });
  t.throws(() => s.markDestroyed(i.id), IllegalTransitionError);
  t.throws(() => s.markDestroyed(i.id), { code: 'ILLEGAL_TRANSITION', message: /created -> destroyed/ });
  s.markDestroying(i.id, { reason: 'x' });
  t.equal(s.markDestroying(i.id, { reason: 'again' }).reason, 'x', 'destroying twice is a no-op');
  t.throws(() => s.markRunning(i.id), IllegalTransitionError);
  s.markDestroyed(i.id);
  t.throws(() => s.markDestroying(i.id, { reason: 'late' }), IllegalTransitionError);
  t.throws(() => s.recordAgent(i.id, { pid: 5, pgid: 5, startedAt: 1 }), IllegalTransitionError);
});

t.test('a testbed holds one live instance; seq counts per testbed', async (t) => {
  const s = store(t);
  const a = s.createInstance({ testbed: 'bench-1', target: 'T', workerId: 'W1' });
  t.throws(() => s.createInstance({ testbed: 'bench-1', target: 'T', workerId: 'W2' }), { code: 'CONFLICT' });
  // Even bypassing the module, the partial unique index refuses a second live instance.
  t.throws(() =>
    s.opened.sqlite
      .prepare(
        "insert into instances (id, testbed, seq, target, worker_id, state, created_at, updated_at) values ('X', 'bench-1', 9, 'T', 'W9', 'created', 0, 0)",
      )
      .run(),
  );
  const b = s.createInstance({ testbed: 'bench-2', target: 'T', workerId: 'W3' });
  t.equal(b.seq, 1);
  t.same(s.freeTestbeds(true), []);
  s.markDestroying(a.id, { reason: 'done' });
  s.markDestroyed(a.id);
  const c = s.createInstance({ testbed: 'bench-1', target: 'T', workerId: 'W4' });
  t.equal(c.seq, 2);
});

t.test('a failure makes the testbed unknown and keeps it out of allocation until a check passes', async (t) => {
  const s = store(t);
  const i = s.createInstance({ testbed: 'bench-1', target: 'T', workerId: 'W1' });
  s.markDestroying(i.id, { reason: 'agent died', failure: 'killed by SIGKILL' });
  t.same(s.freeTestbeds(true), ['bench-2'], 'still held by the instance');
  s.markDestroyed(i.id);
  const tb = s.testbed('bench-1')!;
  t.equal(tb.health, 'unknown');
  t.match(tb.healthReason, /agent died/);
  t.same(s.freeTestbeds(true), ['bench-2'], 'quarantined');
  t.same(s.freeTestbeds(false), ['bench-1', 'bench-2'], 'only quarantined when quarantine is on');
  t.same(s.health.dueForCheck(['bench-1', 'bench-2']), ['bench-1'], 'a check is due at once');
  t.ok(s.health.beginCheck('bench-1', 'C1'));
  t.same(s.freeTestbeds(false), ['bench-2'], 'a check holds the testbed');
  s.health.finishCheck('bench-1', 'C1', true, 'device answers');
  t.same(s.freeTestbeds(true), ['bench-1', 'bench-2']);
});

t.test('an instance holds its testbed through the lock table until destroyed', async (t) => {
  const s = store(t);
  const i = s.createInstance({ testbed: 'bench-1', target: 'T', job: 'J1', workerId: 'W1' });
  t.match(s.testbedViews().find((v) => v.name === 'bench-1')!.lock, {
    kind: 'job',
    holder: i.id,
    reason: `job J1 (instance ${i.id})`,
  });
  t.throws(() => s.reservations.reserve({ testbed: 'bench-1', owner: 'alice', ttlMs: 60_000 }), {
    code: 'CONFLICT',
    message: /bench-1 is running job J1/,
  });
  s.markDestroying(i.id, { reason: 'done' });
  s.recordWorkerDeleted(i.id);
  s.recordInfraReport(i.id, ['gamma: unreachable']);
  t.equal(s.testbed('bench-1')!.health, 'unknown', 'an infrastructure report flags the testbed');
  t.match(s.instance(i.id)!.failure, /reported an infrastructure failure: gamma: unreachable/);
  s.recordRestore(i.id, { ok: false, message: 'flash failed' });
  t.match(s.instance(i.id)!.restoreOutcome, /^failed: flash failed/);
  t.ok(s.testbedViews().find((v) => v.name === 'bench-1')!.lock, 'held through the restore');
  s.markDestroyed(i.id);
  t.notOk(s.testbedViews().find((v) => v.name === 'bench-1')!.lock, 'released with the instance');
  t.ok(s.reservations.reserve({ testbed: 'bench-1', owner: 'alice', ttlMs: 60_000 }));
  t.throws(() => s.createInstance({ testbed: 'bench-1', target: 'T', workerId: 'W2' }), {
    code: 'CONFLICT',
    message: /reserved by alice/,
  });
});

t.test('the live-instance query uses the partial index (flat with a long history)', async (t) => {
  const s = store(t);
  const insert = s.opened.sqlite.prepare(
    "insert into instances (id, testbed, seq, target, worker_id, state, created_at, updated_at) values (?, 'old', ?, 'T', ?, 'destroyed', 0, 0)",
  );
  s.opened.sqlite.transaction(() => {
    for (let n = 1; n <= 20_000; n++) insert.run(`H${String(n).padStart(25, '0')}`, n, `W${n}`);
  })();
  const q = liveInstancesQuery(s.opened.db).toSQL();
  const plan = s.opened.sqlite.prepare(`explain query plan ${q.sql}`).all(...q.params) as Array<{ detail: string }>;
  t.match(plan.map((p) => p.detail).join('\n'), /USING INDEX instances_live_(state|testbed)/, 'without statistics');
  s.opened.sqlite.exec('analyze');
  const analysed = s.opened.sqlite.prepare(`explain query plan ${q.sql}`).all(...q.params) as Array<{ detail: string }>;
  t.match(analysed.map((p) => p.detail).join('\n'), /USING INDEX instances_live_(state|testbed)/, 'with statistics');
  t.same(s.liveInstances(), []);
});

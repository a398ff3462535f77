// Fault: the factory SIGKILLed at every named step of an instance's life (factory/faults.ts,
// MVM_FAULT_POINT), with the real agent and two testbeds, then started again while a second job
// waits. test/factory/recovery-*.test.ts cover each point but one (after-record-agent) with the
// scripted agent and one testbed; this sweep takes every point from FAULT_POINTS — a point added
// later is swept too — and checks, for each: the orphaned workers the crash left are gone (or
// carried forward by their instance) after one pass of the new factory; each job got one instance
// and one agent (no testbed given twice, nothing run twice); every instance ends destroyed; both
// jobs complete; no worker and no process is left.
import t, { type Test } from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAULT_POINTS } from '../../factory/faults.js';
import type { FactoryWorker } from '../../shared/api/types.js';
import { waitFor } from '../helpers/mvm-process.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { bootstraps } from '../factory/recovery.js';
import { assertNone, liveWithCmdline } from './lib/procs.js';
import { startFaultLab, type FaultLab } from './lib/stack.js';

/** Points reached only once the job is over (it must be let through before the crash). */
const TEARDOWN = new Set(['after-mark-destroying', 'after-stop-agent', 'after-delete-worker', 'after-mark-destroyed']);
/** Points reached only when there is an orphaned worker to delete. */
const NEEDS_ORPHAN = new Set(['after-delete-orphan']);
const STATES = ['created', 'running', 'destroying', 'destroyed'];

const script = (runs: string, gate: string) =>
  `echo run >> '${runs}'\nwhile [ ! -e '${gate}' ]; do sleep 0.05; done\necho released`;

// Most of a case is waiting (agents pinging, passes polling), so the points run in two groups at
// once, each on a lab of its own (its own server and factory token: one factory's orphan sweep
// must not see the other's workers); within a group, one point after another.
t.jobs = 2;
const groups = [0, 1].map((g) => FAULT_POINTS.filter((_, i) => i % 2 === g));
for (const [g, points] of groups.entries()) {
  t.test(`fault points, group ${g + 1}: ${points.join(', ')}`, async (t) => {
    // A short lease, so that a job leased by the dead factory can be leased again soon.
    const lab = await startFaultLab(t, {
      testbeds: [
        { name: 'gamma-1', targets: ['bitaxe'] },
        { name: 'gamma-2', targets: ['bitaxe'] },
      ],
      serverArgs: ['--lease-timeout', '2s'],
    });
    for (const point of points) await killAt(t, lab, point);
  });
}

async function killAt(t: Test, lab: FaultLab, point: string): Promise<void> {
  await t.test(`factory killed ${point}`, async (t) => {
    const dir = join(lab.dir, point);
    mkdirSync(dir, { recursive: true });
    const dbFile = join(dir, 'factory.sqlite3');
    const gate = join(dir, 'go');
    const runsA = join(dir, 'runs-a');
    const runsB = join(dir, 'runs-b');
    if (TEARDOWN.has(point)) writeFileSync(gate, '');
    if (NEEDS_ORPHAN.has(point))
      await lab.factoryApi.post('/0/factory/worker', { target: lab.targetIds.get('bitaxe'), wait_for_flush: false });

    const f1 = await lab.factory({ env: { MVM_FAULT_POINT: point }, dbFile, wait: false });
    const a = await lab.submitTasks('bitaxe', [{ name: 'a', script: script(runsA, gate) }], { name: `A ${point}` });
    // With a deadline: a factory that never reaches its fault point fails the case, not the file.
    const died = await Promise.race([
      f1.exited,
      new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000).unref()),
    ]);
    t.equal(died, 'SIGKILL', 'the factory died');
    t.ok(
      f1.stderr.some((l) => l.includes(`fault point ${point} reached`)),
      `at ${point}`,
    );

    // What the crash left: every instance in a known state, at most one live per testbed.
    const crashRows = allRows(dbFile);
    const crashWorkers = await lab.workers();
    t.ok(
      crashRows.every((r) => STATES.includes(r.state)),
      `instances in known states: ${crashRows.map((r) => r.state).join(', ') || 'none'}`,
    );
    const liveBeds = crashRows.filter((r) => r.state !== 'destroyed').map((r) => r.testbed);
    t.equal(new Set(liveBeds).size, liveBeds.length, 'no testbed with two live instances');

    // A second job waits while the factory is down; then the factory starts again.
    const b = await lab.submitTasks('bitaxe', [{ name: 'b', script: script(runsB, gate) }], { name: `B ${point}` });
    const f2 = await lab.factory({ dbFile });
    // After its first pass: each worker the crash left is deleted or carried by its live instance.
    const live = liveRows(dbFile);
    const now = new Map((await lab.workers()).map((w) => [w.id, w] as const));
    for (const w of crashWorkers) {
      const kept = now.get(w.id);
      const owner = live.find((i) => i.worker_id === w.id);
      t.ok(
        !kept || (owner && kept.private === owner.id),
        `worker ${w.id} left by the crash is ${kept ? `carried by instance ${owner?.id}` : 'deleted'} after one pass`,
      );
    }

    writeFileSync(gate, '');
    for (const [name, id] of [
      ['A', a],
      ['B', b],
    ] as const) {
      t.equal((await lab.waitJob(id, ['completed', 'failed'], 60_000)).state, 'completed', `job ${name} completed`);
    }
    await waitFor(() => liveRows(dbFile).length === 0, 'every instance destroyed', 30_000, 100);
    const rows = allRows(dbFile) as Array<ReturnType<typeof allRows>[number] & { job: string }>;
    t.ok(
      rows.every((r) => r.state === 'destroyed'),
      'every instance destroyed',
    );
    for (const [name, id, runs] of [
      ['A', a, runsA],
      ['B', b, runsB],
    ] as const) {
      const mine = rows.filter((r) => r.job === id);
      t.equal(mine.length, 1, `job ${name} got one instance (one testbed)`);
      t.equal(mine[0] && bootstraps(dir, mine[0].id), 1, `job ${name} got one agent, bootstrapped once`);
      t.equal(readFileSync(runs, 'utf8'), 'run\n', `job ${name} ran once`);
    }
    t.same(await lab.workers(), [] as FactoryWorker[], 'no worker left on the server');
    t.equal(await f2.stop(), 0, 'the restarted factory exits cleanly');
    await assertNone(t, () => liveWithCmdline(dir), 'no agent or task of this case is still running');
    await lab.noLeaks(t);
  });
}

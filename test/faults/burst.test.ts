// Load fault: a burst of 500 job submissions at once against a real server. Every submission is
// accepted, each job exactly once; all are queued and listed. Then a real factory with a few fast
// testbeds (the scripted agent: a plain-HTTP worker, quick to start) works through them. Running
// all 500 costs over two minutes of both cores (a process per job), so by default the factory
// runs the first RUN jobs and the rest are cancelled while it works — every job still reaches a
// terminal state, none ran twice, none on two testbeds, no testbed held two at a time.
// MVM_FAULTS_FULL=1 runs all 500.
import t from 'tap';
import type { Job } from '../../shared/api/types.js';
import { ApiError } from '../../shared/errors.js';
import { waitFor } from '../helpers/mvm-process.js';
import { allRows } from '../factory/fixture.js';
import { startFaultLab } from './lib/stack.js';

const JOBS = 500;
const TESTBEDS = 8;
const RUN = process.env.MVM_FAULTS_FULL === '1' ? JOBS : 30;

t.test(`a burst of ${JOBS} submissions: none lost or duplicated, all run once`, async (t) => {
  const lab = await startFaultLab(t, {
    testbeds: Array.from({ length: TESTBEDS }, (_, i) => ({ name: `fast-${i + 1}`, targets: ['bitaxe'] })),
    scriptedAgent: true,
  });
  const started = Date.now();
  // All at once: the client keeps up to 64 connections open, so the server sees them concurrently.
  const ids = await Promise.all(
    Array.from({ length: JOBS }, (_, i) =>
      lab.submitTasks('bitaxe', [{ name: 'once', script: `echo "ran ${i}"` }], { name: `burst ${i}` }),
    ),
  );
  t.comment(`${JOBS} submissions accepted in ${Date.now() - started} ms`);
  t.equal(ids.length, JOBS, 'every submission was accepted');
  t.equal(new Set(ids).size, JOBS, 'each with its own job id');

  const listed: Job[] = [];
  for (let token: string | undefined; ;) {
    const page = await lab.user.get<{ items: Job[]; next_page?: string | null }>('/1/jobs', {
      query: { limit: 100, page_token: token },
    });
    listed.push(...page.items);
    if (!page.next_page) break;
    token = page.next_page;
  }
  t.equal(listed.length, JOBS, 'the listing holds every job');
  t.same(new Set(listed.map((j) => j.id)), new Set(ids), 'exactly the jobs submitted, once each');
  t.ok(
    listed.every((j) => j.state === 'queued'),
    'all queued',
  );
  const names = new Map(listed.map((j) => [j.id, j.name]));
  t.ok(
    ids.every((id, i) => names.get(id) === `burst ${i}`),
    'each job is the one submitted under its id',
  );

  const factory = await lab.factory();
  const runStart = Date.now();
  const ended = async () =>
    (await Promise.all(ids.map((id) => lab.job(id)))).filter((j) => j.state === 'completed' || j.state === 'failed');
  await waitFor(async () => (await ended()).length >= RUN, `${RUN} jobs to end`, 180_000, 500);
  t.comment(`${RUN} jobs run on ${TESTBEDS} testbeds in ${Date.now() - runStart} ms`);
  // The rest is cancelled while the factory is busy: queued, leased or running alike.
  const done = new Set((await ended()).map((j) => j.id));
  const cancelled = ids.filter((id) => !done.has(id));
  // A job may complete between the listing and its cancellation: that 409 is the race, not a fault.
  await Promise.all(
    cancelled.map((id) =>
      lab.user.post(`/0/jobs/${id}/cancel`).catch((err) => {
        if (!(err instanceof ApiError && err.status === 409)) throw err;
      }),
    ),
  );
  await waitFor(async () => (await ended()).length === JOBS, 'every job to end', 60_000, 500);
  const jobs = await Promise.all(ids.map((id) => lab.job(id)));
  t.ok(
    jobs.every((j) => j.state === 'completed' || j.state === 'failed'),
    'every job reached a terminal state',
  );
  t.ok(jobs.filter((j) => j.state === 'completed').length >= RUN, `at least ${RUN} completed`);
  t.ok(
    jobs.every((j) => j.state === 'completed' || j.cancelled),
    'the others failed because they were cancelled',
  );
  const outputs = await Promise.all(
    ids.map(async (id) => (await lab.events(id)).filter((e) => e.stream === 'stdout').map((e) => e.payload)),
  );
  const wrong = outputs
    .map((o, i) => {
      const ok =
        jobs[i].state === 'completed'
          ? o.length === 1 && o[0] === `ran ${i}`
          : o.length === 0 || (o.length === 1 && o[0] === `ran ${i}`);
      return ok ? undefined : `${ids[i]} (${jobs[i].state}): ${JSON.stringify(o)}`;
    })
    .filter(Boolean);
  t.same(wrong, [], 'each completed job ran once, its own script; a cancelled one at most once');

  // A job cancelled between its lease and its worker's first ping leaves that worker idle: the
  // server assigns a worker the job it was leased for *or* the next queued one (as buildomat), so
  // the instance waits for work. One more job per testbed shows no instance is stuck: each idle
  // worker takes one, and every instance then ends.
  const idle = allRows(lab.dbFile).filter((r) => r.state !== 'destroyed').length;
  t.comment(`${idle} instance(s) left idle by the cancellations`);
  const sweep = await Promise.all(
    Array.from({ length: TESTBEDS }, (_, i) =>
      lab.submitTasks('bitaxe', [{ name: 'sweep', script: `echo "sweep ${i}"` }], { name: `sweep ${i}` }),
    ),
  );
  for (const id of sweep)
    t.equal((await lab.waitJob(id, ['completed', 'failed'], 60_000)).state, 'completed', `sweep job ${id} completed`);
  await waitFor(
    () => allRows(lab.dbFile).every((r) => r.state === 'destroyed'),
    'every instance destroyed',
    30_000,
    200,
  );
  const rows = allRows(lab.dbFile) as Array<
    ReturnType<typeof allRows>[number] & { job: string; created_at: number; destroyed_at: number }
  >;
  t.equal(new Set(rows.map((r) => r.job)).size, rows.length, 'no job placed twice');
  t.ok(
    jobs.every((j, i) => j.state !== 'completed' || rows.some((r) => r.job === ids[i])),
    'every completed job had its instance',
  );
  const overlaps: string[] = [];
  for (let i = 1; i <= TESTBEDS; i++) {
    const mine = rows.filter((r) => r.testbed === `fast-${i}`).sort((a, b) => a.created_at - b.created_at);
    for (let k = 1; k < mine.length; k++)
      if (mine[k].created_at < mine[k - 1].destroyed_at)
        overlaps.push(`${mine[k - 1].id} and ${mine[k].id} on fast-${i}`);
  }
  t.same(overlaps, [], 'no testbed held two instances at once');
  t.ok(new Set(rows.map((r) => r.testbed)).size > 1, 'the work was spread over the testbeds');
  t.same(await lab.workers(), [], 'no worker left');
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

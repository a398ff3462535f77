// Several lab hosts, one job server: two and then three real `mvm factory` processes, each with
// its own config, database and testbeds, against one real `mvm server`, under a burst of jobs.
// Target "shared" is served by every host, "only-a" and "only-c" by one each. Checked against the
// server's records (its lease log and workers table) and every host's instance rows: each job ran
// exactly once, on one testbed of a host that serves its target; no lease was granted twice while
// it ran; a job for a target only one host serves waits for that host; a factory killed with
// SIGKILL leaves its jobs to the protocol (its agents finish them; a lease it held lapses and
// another host takes the job) while the others go on, and once restarted it cleans up after itself.
// Scripts are trivial and bursts small: the whole file stays well within the CI budget.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../shared/api/types.js';
import { waitFor } from '../helpers/mvm-process.js';
import { liveRows } from '../factory/fixture.js';
import { startMultiLab, waitEnded, type MultiLab } from '../factory/multi-lab.js';
import { assertNoLeaks, killMarked, MARK_ENV, newMark } from './lib/procs.js';

const shared = (name: string) => ({ name, targets: ['shared'] });

/** Each completed job printed its own line once; every job has one instance, on a host serving its target. */
async function assertRanOnce(
  t: Test,
  lab: MultiLab,
  ids: string[],
  jobs: Job[],
  servedBy: Record<string, string[]>,
): Promise<void> {
  const outs = await Promise.all(
    ids.map(async (id) =>
      (await lab.user.get<Array<{ stream: string; payload: string }>>(`/0/jobs/${id}/events`, { query: { minseq: 0 } }))
        .filter((e) => e.stream === 'stdout')
        .map((e) => e.payload),
    ),
  );
  t.same(
    outs.map((o, i) =>
      jobs[i].state === 'completed' && o.length === 1 && o[0] === `ran ${jobs[i].name}`
        ? 'once'
        : `${jobs[i].state} ${JSON.stringify(o)}`,
    ),
    ids.map(() => 'once'),
    'every job completed and printed its line once',
  );

  const rows = lab.instances();
  const mine = new Map(ids.map((id) => [id, rows.filter((r) => r.job === id)]));
  t.same(
    ids.filter((id) => mine.get(id)!.length !== 1),
    [],
    'every job had exactly one instance, on one host',
  );
  const wrongHost = ids.filter((id, i) => !servedBy[jobs[i].target].includes(mine.get(id)![0]?.host));
  t.same(wrongHost, [], 'each on a host that serves its target');

  const workers = lab.serverWorkers().filter((w) => w.job && ids.includes(w.job));
  const hostOf = new Map([...lab.hosts.values()].map((h) => [h.id, h.name]));
  t.same(
    ids.filter((id) => workers.filter((w) => w.job === id).length !== 1),
    [],
    'the server assigned every job to one worker',
  );
  t.same(
    workers.filter((w) => hostOf.get(w.factory) !== mine.get(w.job!)![0]?.host).map((w) => w.id),
    [],
    "each worker made by the host whose database holds the job's instance",
  );

  const overlaps: string[] = [];
  for (const tb of new Set(rows.map((r) => `${r.host}/${r.testbed}`))) {
    const on = rows.filter((r) => `${r.host}/${r.testbed}` === tb).sort((a, b) => a.created_at - b.created_at);
    for (let k = 1; k < on.length; k++)
      if (on[k].created_at < (on[k - 1].destroyed_at ?? Infinity))
        overlaps.push(`${on[k - 1].id} and ${on[k].id} on ${tb}`);
  }
  t.same(overlaps, [], 'no testbed held two instances at once');
}

/** Leases granted more than once for a job, except after a lease of `lapsed` (a killed host) ran out. */
function doubleLeases(lab: MultiLab, lapsed: string[] = []): string[] {
  const by = new Map<string, string[]>();
  for (const g of lab.leaseGrants()) by.set(g.job, [...(by.get(g.job) ?? []), g.factory]);
  return [...by]
    .filter(
      ([, fs]) =>
        fs.slice(0, -1).some((f) => !lapsed.includes(f)) || fs.length > 1 + fs.filter((f) => lapsed.includes(f)).length,
    )
    .map(([job, fs]) => `${job}: ${fs.join(', ')}`);
}

t.test('two hosts, one server: a burst of 16 jobs, each run once on a host that serves it', async (t) => {
  const mark = newMark();
  t.teardown(() => void killMarked(mark));
  const lab = await startMultiLab(t, {
    hosts: {
      a: [shared('a-1'), shared('a-2'), { name: 'a-only', targets: ['only-a'] }],
      b: [shared('b-1'), shared('b-2')],
    },
    factoryEnv: { [MARK_ENV]: mark },
  });
  const [fa, fb] = await Promise.all([lab.hosts.get('a')!.start(), lab.hosts.get('b')!.start()]);
  const targets = [...Array(12).fill('shared'), ...Array(4).fill('only-a')] as string[];
  // Each script prints its job's name, so a job that ran another's script shows.
  const ids = await Promise.all(targets.map((tg, i) => lab.submit(tg, `echo "ran burst ${i}"`, `burst ${i}`)));
  const jobs = await waitEnded(lab, ids, 60_000);
  await assertRanOnce(t, lab, ids, jobs, { shared: ['a', 'b'], 'only-a': ['a'] });
  const rows = lab.instances();
  t.ok(
    rows.some((r) => r.host === 'b') && rows.some((r) => r.host === 'a' && r.testbed !== 'a-only'),
    'both hosts took shared jobs',
  );
  t.same(
    ids.filter((id) => !lab.leaseGrants().some((g) => g.job === id)),
    [],
    "the server's log shows a lease granted for every job",
  );
  t.same(doubleLeases(lab), [], 'no job was leased twice');
  await waitFor(
    () => [...lab.hosts.values()].every((h) => liveRows(h.dbFile).length === 0),
    'every instance destroyed',
    30_000,
    100,
  );
  t.equal(await fa.stop(), 0);
  t.equal(await fb.stop(), 0);
  await assertNoLeaks(t, mark);
});

t.test(
  'three hosts: one killed with SIGKILL mid-burst, the others go on; a job only host c serves waits for c',
  async (t) => {
    const mark = newMark();
    t.teardown(() => void killMarked(mark));
    const lab = await startMultiLab(t, {
      hosts: {
        a: [shared('a-1'), shared('a-2')],
        b: [shared('b-1'), shared('b-2')],
        c: [shared('c-1'), { name: 'c-only', targets: ['only-c'] }],
      },
      // A short lease: a job the killed host leased but never started is leased again soon.
      serverArgs: ['--lease-timeout', '2s'],
      factoryEnv: { [MARK_ENV]: mark },
    });
    const gate = join(lab.dir, 'go');
    const held = (name: string) => `while [ ! -e '${gate}' ]; do sleep 0.05; done; echo "ran ${name}"`;
    const onlyC = await Promise.all([0, 1].map((i) => lab.submit('only-c', `echo "ran only-c ${i}"`, `only-c ${i}`)));
    const fa = await lab.hosts.get('a')!.start();
    const b = lab.hosts.get('b')!;
    let fb = await b.start();
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) => lab.submit('shared', held(`shared ${i}`), `shared ${i}`)),
    );

    // Host b holds two jobs (its agents running them) when it is killed.
    await waitFor(
      () => liveRows(b.dbFile).filter((r) => r.state === 'running').length === 2,
      'host b running two jobs',
      60_000,
      100,
    );
    const bJobs = lab
      .instances()
      .filter((r) => r.host === 'b')
      .map((r) => r.job);
    t.equal(await fb.kill9(), 'SIGKILL', 'host b killed');
    writeFileSync(gate, '');

    // Host a goes on through the burst; nothing runs the only-c jobs: they wait for host c.
    await waitFor(
      async () =>
        (await Promise.all(burst.map((id) => lab.job(id)))).filter((j) => j.state === 'completed').length >= 6,
      'host a to complete jobs of the burst',
      60_000,
      250,
    );
    const waiting = await Promise.all(onlyC.map((id) => lab.job(id)));
    t.same(
      waiting.map((j) => j.state),
      ['queued', 'queued'],
      'the only-c jobs still wait while hosts a and b work',
    );
    t.same(
      lab.instances().filter((r) => onlyC.includes(r.job)),
      [],
      'no host took them',
    );

    const fc = await lab.hosts.get('c')!.start();
    await waitEnded(lab, onlyC, 60_000);
    t.ok(
      lab
        .instances()
        .filter((r) => onlyC.includes(r.job))
        .every((r) => r.host === 'c' && r.testbed === 'c-only'),
      'host c ran them on its only-c testbed',
    );

    // Host b's jobs end as the protocol says: its agents outlive it and finish them.
    const all = [...burst, ...onlyC];
    const jobs = await waitEnded(lab, all, 90_000);
    t.same(
      jobs.filter((j) => bJobs.includes(j.id)).map((j) => j.state),
      bJobs.map(() => 'completed'),
      "the killed host's jobs completed (its agents finished them)",
    );

    // Restarted, host b cleans up after itself: its instances destroyed, its workers gone.
    fb = await b.start();
    await waitFor(() => liveRows(b.dbFile).length === 0, "host b's instances destroyed after its restart", 30_000, 100);
    await waitFor(
      async () => (await lab.srv.client(b.token).get<unknown[]>('/0/factory/workers')).length === 0,
      "host b's workers deleted",
      30_000,
      200,
    );
    await assertRanOnce(t, lab, all, jobs, { shared: ['a', 'b', 'c'], 'only-c': ['c'] });
    t.same(doubleLeases(lab, [b.id]), [], "no job leased twice, except after the killed host's lease lapsed");
    await waitFor(
      () => [...lab.hosts.values()].every((h) => liveRows(h.dbFile).length === 0),
      'every instance destroyed',
      30_000,
      100,
    );
    for (const f of [fa, fb, fc]) t.equal(await f.stop(), 0, 'a factory exits cleanly');
    await assertNoLeaks(t, mark);
  },
);

// throughput-hosts: the throughput workload spread over three lab hosts — three `mvm factory`
// processes, each with its own config, database, token and a third of the 20 testbeds — against
// one `mvm server`. N short jobs queued at once (while dispatch is on hold, then released); jobs
// per minute until the last ended, how the jobs split between the hosts, and the server's CPU: the
// one job server (one SQLite file) is what every host shares. Compare with `throughput` (the same
// 20 testbeds on one factory).
// Run: npx tsc -p . && node dist/bench/run.js throughput-hosts [--quick]
import type { Job } from '../shared/api/types.js';
import { runBench } from './lib/bench.js';
import { FactoryDbReader } from './lib/factory-db.js';
import { prepareLab, startBenchServer, startFactory, type BenchLab } from './lib/lab.js';
import { machineCpu, ProcSampler } from './lib/proc-sampler.js';
import { round, summarize } from './lib/stats.js';
import { THROUGHPUT_TESTBEDS } from './lib/throughput-run.js';
import { waitFor } from './lib/wait.js';

const HOSTS = 3;

runBench('throughput-hosts', async (ctx) => {
  const jobs = ctx.quick ? 21 : 300;
  const server = await startBenchServer(ctx);
  const perHost = Array.from(
    { length: HOSTS },
    (_, i) => Math.floor(THROUGHPUT_TESTBEDS / HOSTS) + (i < THROUGHPUT_TESTBEDS % HOSTS ? 1 : 0),
  );
  const labs: BenchLab[] = [];
  for (const [i, testbeds] of perHost.entries())
    labs.push(await prepareLab(ctx, server, { testbeds, name: `host-${i + 1}` }));
  const factories = await Promise.all(labs.map((lab, i) => startFactory(ctx, lab, `factory-${i + 1}`)));
  const procs = new ProcSampler(
    () => ({ server: server.proc.pid, ...Object.fromEntries(factories.map((f, i) => [`factory-${i + 1}`, f.pid])) }),
    500,
  );
  const cpu = machineCpu();

  await server.admin.post('/0/control/hold');
  const ids: string[] = [];
  for (let i = 0; i < jobs; i++) ids.push(await labs[0].submit('echo hi', `hosts-${i}`));
  const released = Date.now();
  await server.admin.post('/0/control/resume');
  await waitFor(
    async () => (await server.admin.get<unknown[]>('/0/admin/jobs', { query: { active: true } })).length === 0,
    `${jobs} jobs to end`,
    20 * 60_000,
    250,
  );
  const used = procs.stop();

  const all: Job[] = await Promise.all(ids.map((id) => labs[0].user.getJob(id)));
  const end = Math.max(...all.map((j) => Date.parse(j.times!.complete!)));
  const ours = new Set(ids);
  // An instance per placement: a job placed again (its first instance failed to start) counts twice.
  const placements = labs.flatMap((lab, host) => {
    const db = new FactoryDbReader(lab.dbFile);
    const rows = db
      .instances()
      .filter((i) => i.job !== null && ours.has(i.job))
      .map((i) => ({ host, job: i.job!, state: i.state }));
    db.close();
    return rows;
  });
  const jobsOf = (host: number) => new Set(placements.filter((p) => p.host === host).map((p) => p.job)).size;
  const placedBy = new Map<string, Set<number>>();
  for (const p of placements) placedBy.set(p.job, (placedBy.get(p.job) ?? new Set()).add(p.host));
  const durationS = (end - released) / 1000;
  return {
    jobs,
    hosts: HOSTS,
    testbeds: perHost,
    failed_jobs: all.filter((j) => j.state !== 'completed').length,
    duration_s: round(durationS, 2),
    jobs_per_min: round((jobs / durationS) * 60),
    jobs_per_host: labs.map((_, h) => jobsOf(h)),
    instances: placements.length,
    /** Jobs with more than one instance (placed again), and those placed on two hosts. */
    jobs_placed_again: [...placedBy.keys()].filter((j) => placements.filter((p) => p.job === j).length > 1).length,
    jobs_on_two_hosts: [...placedBy.values()].filter((s) => s.size > 1).length,
    job_s: summarize(
      all.map((j) => (Date.parse(j.times!.complete!) - released) / 1000),
      2,
    ),
    cpu_pct: {
      server: used.server?.cpu_pct,
      factories: factories.map((_, i) => used[`factory-${i + 1}`]?.cpu_pct),
      machine_busy: cpu().busy_pct,
    },
  };
});

// footprint: what mvm costs the lab host. Cold start of `mvm server` and `mvm factory` (the spawn
// → the "listening" / "started" line, each with a fresh data folder or database); the RSS of the
// server and the factory (20 testbeds) idle, under the throughput workload, and idle again after.
// The factory's "started" line comes after its first pass; its first line of all (the reservation
// API listening) is timed too, to tell start-up from that pass.
// Run: npx tsc -p . && node dist/bench/run.js footprint [--quick]
import { runBench, type BenchContext } from './lib/bench.js';
import { FACTORY_READY, prepareLab, startBenchServer, startFactory, type BenchServer } from './lib/lab.js';
import { ProcSampler, type ProcFigures } from './lib/proc-sampler.js';
import { summarize } from './lib/stats.js';
import { THROUGHPUT_TESTBEDS, throughputRun } from './lib/throughput-run.js';

runBench('footprint', async (ctx) => {
  const starts = ctx.quick ? 2 : 5;
  const idleMs = ctx.quick ? 3_000 : 15_000;
  const jobs = ctx.quick ? 20 : 300;

  const serverStarts: number[] = [];
  for (let i = 0; i < starts; i++) {
    const s = await startBenchServer(ctx, `cold-server-${i}`);
    serverStarts.push((await s.proc.waitForLine(/listening/)).at - s.proc.spawnedAt);
    await s.proc.stop();
  }
  const server = await startBenchServer(ctx);
  const factoryStarts = await factoryColdStarts(ctx, server, starts);

  const lab = await prepareLab(ctx, server, { testbeds: THROUGHPUT_TESTBEDS });
  const factory = await startFactory(ctx, lab);
  const pids = () => ({ server: server.proc.pid, factory: factory.pid });
  const idle = await sampleFor(pids, idleMs);
  const load = new ProcSampler(pids, 200);
  const run = await throughputRun(lab, jobs);
  const loaded = load.stop();
  const after = await sampleFor(pids, idleMs);
  const rss = (name: 'server' | 'factory') => ({
    idle_mb: idle[name]?.mean_rss_mb,
    load_max_mb: loaded[name]?.max_rss_mb,
    load_mean_mb: loaded[name]?.mean_rss_mb,
    after_load_mb: after[name]?.mean_rss_mb,
    peak_hwm_mb: after[name]?.hwm_mb,
    idle_cpu_pct: idle[name]?.cpu_pct,
    load_cpu_pct: loaded[name]?.cpu_pct,
  });
  return {
    cold_start_ms: { server: summarize(serverStarts), factory: summarize(factoryStarts.started), factory_first_line: summarize(factoryStarts.firstLine) },
    testbeds: THROUGHPUT_TESTBEDS,
    load: { jobs: run.jobs, duration_s: run.duration_s, failed_jobs: run.failed_jobs },
    server: rss('server'),
    factory: rss('factory'),
  };
});

/** `mvm factory` started against a running server, each time with a new database and config. */
async function factoryColdStarts(ctx: BenchContext, server: BenchServer, n: number): Promise<{ started: number[]; firstLine: number[] }> {
  const out = { started: [] as number[], firstLine: [] as number[] };
  for (let i = 0; i < n; i++) {
    const lab = await prepareLab(ctx, server, { testbeds: THROUGHPUT_TESTBEDS, name: `cold-factory-${i}` });
    const f = await startFactory(ctx, lab, `cold-factory-${i}`);
    out.started.push((await f.waitForLine(FACTORY_READY)).at - f.spawnedAt);
    // Its first line (the reservation API listening, when it has one) comes before the first pass.
    out.firstLine.push((await f.waitForLine(/./)).at - f.spawnedAt);
    await f.stop();
  }
  return out;
}

/** Samples the processes over a fixed window: the window is the measurement, not a wait for something. */
async function sampleFor(pids: () => Record<string, number>, ms: number): Promise<Record<string, ProcFigures>> {
  const s = new ProcSampler(pids, 250);
  await new Promise((r) => setTimeout(r, ms));
  return s.stop();
}

// footprint: what mvm costs the lab host. Cold start of `mvm server` and `mvm factory` (the spawn
// → the "listening" / "started" line, each with a fresh data folder or database); the RSS of the
// server and the factory (20 testbeds) idle, under the throughput workload, and idle again after.
// The factory's "started" line comes after its first pass; its first line of all (the reservation
// API listening) is timed too, to tell start-up from that pass. The client's start: spawn → first
// byte of `mvm job show`, `mvm testbeds list` and `mvm --version`, beside the floor `node -e 0`.
// The fleet's data plane reading 1,000 simulated AxeOS miners (simulators in another process): its RSS.
// Run: npx tsc -p . && node dist/bench/run.js footprint [--quick]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN_FILE } from '../factory/api/serve.js';
import { UserClient } from '../shared/buildomat/user.js';
import { HttpClient } from '../shared/http.js';
import { MVM_BIN } from '../shared/paths.js';
import { runBench, type BenchContext } from './lib/bench.js';
import { firstByteMs } from './lib/first-byte.js';
import {
  FACTORY_READY,
  jobSpec,
  prepareLab,
  startBenchServer,
  startFactory,
  type BenchLab,
  type BenchServer,
} from './lib/lab.js';
import { startNode, type Proc } from './lib/proc.js';
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
  const client = await clientStarts(ctx, lab, factory, starts);
  await factory.stop();
  await server.proc.stop();
  const fleet = await fleetFootprint(ctx);
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
    cold_start_ms: {
      server: summarize(serverStarts),
      factory: summarize(factoryStarts.started),
      factory_first_line: summarize(factoryStarts.firstLine),
    },
    testbeds: THROUGHPUT_TESTBEDS,
    load: { jobs: run.jobs, duration_s: run.duration_s, failed_jobs: run.failed_jobs },
    server: rss('server'),
    factory: rss('factory'),
    client_first_byte_ms: client,
    client_target_ms: 150,
    fleet,
    fleet_target_rss_mb: 200,
  };
});

const HERE = dirname(fileURLToPath(import.meta.url));

/** spawn → first byte of the client's commands, `n` times each, with the floor `node -e 0` beside them. */
async function clientStarts(ctx: BenchContext, lab: BenchLab, factory: Proc, n: number) {
  const userToken = (await lab.server.admin.post<{ token: string }>('/0/users', { name: 'bench-client' })).token;
  const job = await new UserClient(new HttpClient({ baseUrl: lab.server.url, token: userToken })).submitJob(
    jobSpec('echo hi', 'show me'),
  );
  const labUrl = /^mvm factory API at (http:\/\/\S+)/.exec(
    (await factory.waitForLine(/^mvm factory API at /)).line,
  )![1];
  const labToken = readFileSync(join(dirname(lab.dbFile), ADMIN_TOKEN_FILE), 'utf8').trim();
  const env = { ...process.env, HOME: ctx.subdir('client-home') };
  const commands: Record<string, string[]> = {
    node_e_0: ['-e', '0'],
    mvm_version: [MVM_BIN, '--version'],
    mvm_job_show: [MVM_BIN, 'job', 'show', job, '--url', lab.server.url, '--token', userToken],
    mvm_testbeds_list: [MVM_BIN, 'testbeds', 'list', '--lab-url', labUrl, '--lab-token', labToken],
  };
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  // Interleaved, so that a change in the machine's load falls on every command alike.
  for (let i = 0; i < n + 1; i++) {
    for (const [name, args] of Object.entries(commands)) {
      const took = await firstByteMs(process.execPath, args, env);
      if (i > 0) ms[name].push(took); // the first of each warms the file cache
    }
  }
  return Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, summarize(v)]));
}

/** The fleet's data plane reading 1,000 miners every 10 s: its RSS over three intervals after one of warm-up. */
async function fleetFootprint(ctx: BenchContext) {
  const miners = ctx.quick ? 50 : 1000;
  const sims = startNode('fleet-sims', join(HERE, 'lib', 'axeos-sims-main.js'), [String(miners)], {
    logFile: ctx.log('fleet-sims'),
  });
  const urls = (JSON.parse((await sims.waitForLine(/^\{"urls"/, 180_000)).line) as { urls: string[] }).urls;
  const fleet = startNode('fleet', join(HERE, 'lib', 'fleet-main.js'), [ctx.subdir('fleet'), ...urls], {
    logFile: ctx.log('fleet'),
  });
  await fleet.waitForLine(/^fleet started$/, 120_000);
  await new Promise((r) => setTimeout(r, ctx.quick ? 3_000 : 10_000));
  const figures = (await sampleFor(() => ({ fleet: fleet.pid }), ctx.quick ? 6_000 : 30_000)).fleet;
  await fleet.stop();
  await sims.stop();
  return {
    miners,
    rss_mean_mb: figures?.mean_rss_mb,
    rss_max_mb: figures?.max_rss_mb,
    peak_hwm_mb: figures?.hwm_mb,
    cpu_pct: figures?.cpu_pct,
  };
}

/** `mvm factory` started against a running server, each time with a new database and config. */
async function factoryColdStarts(
  ctx: BenchContext,
  server: BenchServer,
  n: number,
): Promise<{ started: number[]; firstLine: number[] }> {
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

// telemetry: the runner's AxeOS driver reading DEVICES simulated miners every INTERVAL, the way a
// lab-wide telemetry poller would (one round: every device's telemetry() at once). The simulators
// run in a separate process, so the CPU (process.cpuUsage over each round's whole interval, in %
// of one core) and the memory are the poller's own, as is the round duration. A naive poller (a new
// connection per request) reads the same devices in the same run, half an interval later: the ratio
// of the two is the figure that does not depend on how loaded the machine is.
// Run: npx tsc -p . && node dist/bench/run.js telemetry [--quick]
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createDriver } from '../runner/drivers/registry.js';
import { runBench } from './lib/bench.js';
import { naiveRead } from './lib/naive-poller.js';
import { startNode } from './lib/proc.js';
import { mb, procCpuMs, procMemory } from './lib/proc-sampler.js';
import { round, summarize } from './lib/stats.js';

const SIMS_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'axeos-sims-main.js');

runBench('telemetry', async (ctx) => {
  const devices = ctx.quick ? 50 : 1000;
  const intervalMs = ctx.quick ? 2_000 : 10_000;
  const rounds = ctx.quick ? 3 : 13;
  const sims = startNode('axeos-sims', SIMS_MAIN, [String(devices)], { logFile: ctx.log('axeos-sims') });
  const urls = (JSON.parse((await sims.waitForLine(/^\{"urls"/, 120_000)).line) as { urls: string[] }).urls;
  const drivers = urls.map((address, i) => createDriver({ name: `miner-${i}`, driver: 'axeos', address }));

  // Both pollers read every device once per interval, half an interval apart, so each one's CPU
  // (process.cpuUsage from its round's start to the other's) is its own: the driver, and the naive
  // baseline (a new connection per request, bench/lib/naive-poller.ts) in the same run.
  type Poller = {
    read: (i: number) => Promise<unknown>;
    durations: number[];
    cpuPct: number[];
    simCpu: number[];
    failures: number;
  };
  const poller = (read: Poller['read']): Poller => ({ read, durations: [], cpuPct: [], simCpu: [], failures: 0 });
  const driverPoller = poller((i) => drivers[i].telemetry());
  const naivePoller = poller((i) => naiveRead(urls[i]));
  const rss: number[] = [];
  const rssBefore = procMemory(process.pid)!.rssKb;
  const half = intervalMs / 2;
  let next = performance.now();
  const pollOnce = async (p: Poller, counted: boolean) => {
    const cpu0 = process.cpuUsage();
    const sim0 = procCpuMs(sims.pid)!;
    const t0 = performance.now();
    const results = await Promise.allSettled(drivers.map((_, i) => p.read(i)));
    const took = performance.now() - t0;
    const simUsed = procCpuMs(sims.pid)! - sim0;
    next += half;
    await new Promise((res) => setTimeout(res, Math.max(0, next - performance.now())));
    const used = process.cpuUsage(cpu0);
    if (!counted) return;
    p.durations.push(took);
    p.simCpu.push(simUsed);
    // Each poller runs once per interval: its CPU over the half interval is its CPU per interval.
    p.cpuPct.push(((used.user + used.system) / 1000 / intervalMs) * 100);
    p.failures += results.filter((x) => x.status === 'rejected').length;
  };
  // The first round of each is a warm-up (connections, JIT) and is not counted.
  for (let r = 0; r < rounds; r++) {
    await pollOnce(driverPoller, r > 0);
    if (r > 0) rss.push(procMemory(process.pid)!.rssKb);
    await pollOnce(naivePoller, r > 0);
  }
  await Promise.all(drivers.map((d) => d.close()));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const figures = (p: Poller) => ({
    failed_readings: p.failures,
    round_ms: summarize(p.durations),
    cpu_pct_of_core: { mean: round(mean(p.cpuPct), 2), max: round(Math.max(...p.cpuPct), 2) },
    // The simulators answer from one process: their CPU per round against the round's duration
    // says whether a round waits on them rather than on the poller.
    simulators_cpu_ms_per_round: summarize(p.simCpu),
  });
  const driver = figures(driverPoller);
  const naive = figures(naivePoller);
  return {
    devices,
    interval_s: intervalMs / 1000,
    rounds: driverPoller.durations.length,
    ...driver,
    targets: { cpu_pct_of_core: 3, round_p99_ms: 1000 },
    met: { cpu_pct_of_core: driver.cpu_pct_of_core.mean <= 3, round_p99_ms: driver.round_ms.p99 <= 1000 },
    naive_one_connection_per_request: naive,
    driver_to_naive_cpu_ratio: round(mean(driverPoller.cpuPct) / mean(naivePoller.cpuPct), 2),
    rss_mb: {
      before_first_round: mb(rssBefore),
      mean: mb(rss.reduce((a, b) => a + b, 0) / rss.length),
      max: mb(Math.max(...rss)),
      hwm: mb(procMemory(process.pid)!.hwmKb),
    },
  };
});

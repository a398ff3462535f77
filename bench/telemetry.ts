// telemetry: the runner's AxeOS driver reading DEVICES simulated miners every INTERVAL, the way a
// lab-wide telemetry poller would (one round: every device's telemetry() at once). The simulators
// run in a separate process, so the CPU (process.cpuUsage over each round's whole interval, in %
// of one core) and the memory are the poller's own, as is the round duration.
// Run: npx tsc -p . && node dist/bench/run.js telemetry [--quick]
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createDriver } from '../runner/drivers/registry.js';
import { runBench } from './lib/bench.js';
import { startNode } from './lib/proc.js';
import { mb, procCpuMs, procMemory } from './lib/proc-sampler.js';
import { round, summarize } from './lib/stats.js';

const SIMS_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'axeos-sims-main.js');

runBench('telemetry', async (ctx) => {
  const devices = ctx.quick ? 50 : 1000;
  const intervalMs = ctx.quick ? 2_000 : 10_000;
  const rounds = ctx.quick ? 3 : 13; // the first is a warm-up (connections, JIT) and is not counted
  const sims = startNode('axeos-sims', SIMS_MAIN, [String(devices)], { logFile: ctx.log('axeos-sims') });
  const urls = (JSON.parse((await sims.waitForLine(/^\{"urls"/, 120_000)).line) as { urls: string[] }).urls;
  const drivers = urls.map((address, i) => createDriver({ name: `miner-${i}`, driver: 'axeos', address }));

  const durations: number[] = [];
  const simCpu: number[] = [];
  const cpuPct: number[] = [];
  const rss: number[] = [];
  let failures = 0;
  const rssBefore = procMemory(process.pid)!.rssKb;
  let next = performance.now();
  for (let r = 0; r < rounds; r++) {
    const cpu0 = process.cpuUsage();
    const sim0 = procCpuMs(sims.pid)!;
    const t0 = performance.now();
    const results = await Promise.allSettled(drivers.map((d) => d.telemetry()));
    const took = performance.now() - t0;
    const simUsed = procCpuMs(sims.pid)! - sim0;
    const failed = results.filter((x) => x.status === 'rejected').length;
    // The next round starts on the schedule, not after this one: the interval is what is measured.
    next += intervalMs;
    await new Promise((res) => setTimeout(res, Math.max(0, next - performance.now())));
    const used = process.cpuUsage(cpu0);
    if (r === 0) continue;
    durations.push(took);
    simCpu.push(simUsed);
    cpuPct.push(((used.user + used.system) / 1000 / (performance.now() - t0)) * 100);
    rss.push(procMemory(process.pid)!.rssKb);
    failures += failed;
  }
  await Promise.all(drivers.map((d) => d.close()));
  return {
    devices,
    interval_s: intervalMs / 1000,
    rounds: durations.length,
    failed_readings: failures,
    round_ms: summarize(durations),
    cpu_pct_of_core: { mean: round(cpuPct.reduce((a, b) => a + b, 0) / cpuPct.length), max: round(Math.max(...cpuPct)) },
    // The simulators answer from one process: their CPU per round against the round's duration
    // says whether a round waits on them rather than on the poller.
    simulators_cpu_ms_per_round: summarize(simCpu),
    rss_mb: { before_first_round: mb(rssBefore), mean: mb(rss.reduce((a, b) => a + b, 0) / rss.length), max: mb(Math.max(...rss)), hwm: mb(procMemory(process.pid)!.hwmKb) },
  };
});

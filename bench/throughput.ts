// throughput: 20 testbeds with no devices, N short jobs (`echo hi`) queued at once; jobs per
// minute, and the testbed time left unused while jobs waited (from the server's job times and the
// factory's instance rows). The CPU of the server, the factory and the whole machine is printed
// beside, to show what the run was bound by.
// Run: npx tsc -p . && node dist/bench/run.js throughput [--quick]
import { runBench } from './lib/bench.js';
import { prepareLab, startBenchServer, startFactory } from './lib/lab.js';
import { machineCpu, procChildrenCpuMs, ProcSampler } from './lib/proc-sampler.js';
import { THROUGHPUT_TESTBEDS, throughputRun } from './lib/throughput-run.js';

runBench('throughput', async (ctx) => {
  const jobs = ctx.quick ? 20 : 300;
  const server = await startBenchServer(ctx);
  const lab = await prepareLab(ctx, server, { testbeds: THROUGHPUT_TESTBEDS });
  const factory = await startFactory(ctx, lab);
  const procs = new ProcSampler(() => ({ server: server.proc.pid, factory: factory.pid }), 500);
  const cpu = machineCpu();
  // The agents' CPU (and their tasks') is counted in the factory's children time once it reaps them.
  const agents0 = procChildrenCpuMs(factory.pid)!;
  const figures = await throughputRun(lab, jobs);
  const agentsMs = procChildrenCpuMs(factory.pid)! - agents0;
  const used = procs.stop();
  return {
    ...figures,
    cpu_pct: { server: used.server?.cpu_pct, factory: used.factory?.cpu_pct, machine_busy: cpu().busy_pct },
    agent_cpu_ms_per_job: Math.round(agentsMs / jobs),
  };
});

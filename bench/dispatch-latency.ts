// dispatch-latency: an idle lab (the factory long-polling for work, its testbeds free), one job
// submitted → its first line of task output visible to a user following the job's events. Jobs
// go one at a time, each on an idle lab, through the whole real path: the factory's lease, worker
// creation, a real `mvm agent` process started by the factory, bootstrap, the flush, the agent's
// ping, the task, the agent's event batch, the server, the follower's long-poll.
// Beside it, in the same run and interleaved with the jobs, the floor (bench/lib/dispatch-floor.ts):
// starting `node -e 0` plus the same HTTP round trips made with plain calls; the figure's ratio to
// the floor says how much mvm adds to what any Node.js agent would cost on this machine now.
// agent_cpu_ms_per_job: the CPU time of the agents the factory reaped (with their tasks), per job.
// Run: npx tsc -p . && node dist/bench/run.js dispatch-latency [--quick]
import { performance } from 'node:perf_hooks';
import type { JobEvent } from '../shared/api/types.js';
import { runBench } from './lib/bench.js';
import { FactoryDbReader } from './lib/factory-db.js';
import { followEvents, isDone } from './lib/follow.js';
import { prepareLab, startBenchServer, startFactory, waitTestbedsFree } from './lib/lab.js';
import { median, round, summarize } from './lib/stats.js';
import { waitFor } from './lib/wait.js';
import { procChildrenCpuMs } from './lib/proc-sampler.js';
import { dispatchFloor, type FloorRound } from './lib/dispatch-floor.js';

const TARGETS = { p50_ms: 150, p99_ms: 400, p50_x_floor: 3 };

interface Sample {
  job: string;
  latencyMs: number;
  /** Wall-clock time (ms) at submission and when the follower saw the line. */
  submitWall: number;
  seenWall: number;
  first: JobEvent;
}

runBench('dispatch-latency', async (ctx) => {
  const jobs = ctx.quick ? 5 : 60;
  const warmup = 1; // the first job pays for cold caches in the server and factory: not counted
  const server = await startBenchServer(ctx);
  const lab = await prepareLab(ctx, server, { testbeds: 2 });
  const factory = await startFactory(ctx, lab);
  const floorRound = await dispatchFloor(server);

  const samples: Sample[] = [];
  const floor: FloorRound[] = [];
  let agentCpu0 = 0;
  for (let i = 0; i < warmup + jobs; i++) {
    const f = await floorRound();
    if (i >= warmup) floor.push(f);
    await waitTestbedsFree(lab, 60_000);
    // The agents (and their tasks) the factory reaped: CPU per job, on an idle lab.
    if (i === warmup) agentCpu0 = procChildrenCpuMs(factory.pid) ?? 0;
    const submitWall = Date.now();
    const t0 = performance.now();
    const job = await lab.submit('echo first-line', `dispatch-${i}`);
    let first: JobEvent | undefined;
    let seenAt = 0;
    await followEvents(lab.user, job, (evs, at) => {
      first = evs.find((e) => e.stream === 'stdout');
      seenAt = at;
      return first === undefined;
    });
    if (!first) throw new Error(`job ${job} ended without task output`);
    if (i >= warmup)
      samples.push({ job, latencyMs: seenAt - t0, submitWall, seenWall: submitWall + (seenAt - t0), first });
    await waitFor(async () => isDone((await lab.user.getJob(job)).state), `job ${job} to end`, 60_000);
  }

  await waitTestbedsFree(lab, 60_000);
  const agentCpuMs = (procChildrenCpuMs(factory.pid) ?? 0) - agentCpu0;
  const latency = summarize(samples.map((s) => s.latencyMs));
  const floorTotal = summarize(floor.map((f) => f.total_ms));
  const xFloor = round(latency.p50 / floorTotal.p50, 2);
  return {
    jobs: samples.length,
    testbeds: lab.testbeds,
    latency_ms: latency,
    floor_ms: {
      total: floorTotal,
      node_e_0: summarize(floor.map((f) => f.node_ms)),
      http_round_trips: summarize(floor.map((f) => f.http_ms)),
    },
    p50_x_floor: xFloor,
    targets: TARGETS,
    met: { p50_ms: latency.p50 <= TARGETS.p50_ms, p99_ms: latency.p99 <= TARGETS.p99_ms, p50_x_floor: xFloor <= 3 },
    phases_median_ms: await phases(lab, samples),
    agent_cpu_ms_per_job: Math.round(agentCpuMs / samples.length),
  };
});

/**
 * Where the time goes, median per phase, from the timestamps each component recorded: the server's
 * job times and event times, the factory's instance rows and journal, the agent's own event times.
 */
async function phases(lab: Awaited<ReturnType<typeof prepareLab>>, samples: Sample[]): Promise<Record<string, number>> {
  const db = new FactoryDbReader(lab.dbFile);
  try {
    const byJob = new Map(db.instances().map((i) => [i.job, i]));
    const agentStarted = db.journalTimes('agent-started');
    const parts: Record<string, number[]> = {
      submit_to_instance_created: [],
      instance_created_to_agent_started: [],
      agent_started_to_running: [],
      running_to_first_line_produced: [],
      produced_to_stored: [],
      stored_to_seen: [],
    };
    for (const s of samples) {
      const inst = byJob.get(s.job);
      const started = inst && agentStarted.get(inst.id);
      if (!inst || started === undefined || inst.runningAt === null || !s.first.time_remote) continue;
      const produced = Date.parse(s.first.time_remote);
      const stored = Date.parse(s.first.time);
      parts.submit_to_instance_created.push(inst.createdAt - s.submitWall);
      parts.instance_created_to_agent_started.push(started - inst.createdAt);
      parts.agent_started_to_running.push(inst.runningAt - started);
      parts.running_to_first_line_produced.push(produced - inst.runningAt);
      parts.produced_to_stored.push(stored - produced);
      parts.stored_to_seen.push(s.seenWall - stored);
    }
    return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, round(median(v))]));
  } finally {
    db.close();
  }
}

// log-streaming: one task printing LINES lines (`seq 1 LINES`) in a real lab; how fast its lines
// reach the server (the server's own time of the first and last output event), every line checked
// to arrive exactly once and in order by a user following the job, the CPU each process spends per
// 10,000 lines while they stream, and the peak memory of the agent and the server meanwhile.
// Run: npx tsc -p . && node dist/bench/run.js log-streaming [--quick]
// MVM_BENCH_LOG_LINES sets the number of lines (e.g. for before/after runs side by side).
import { performance } from 'node:perf_hooks';
import { runBench } from './lib/bench.js';
import { FactoryDbReader } from './lib/factory-db.js';
import { followEvents } from './lib/follow.js';
import { prepareLab, startBenchServer, startFactory } from './lib/lab.js';
import { procCpuMs, ProcSampler } from './lib/proc-sampler.js';
import { round } from './lib/stats.js';

/** Issue 21: on an idle machine; on a loaded one (the load averages are in the line) half of it. */
const TARGET_LINES_PER_S = 100_000;
const TARGET_LOADED_LINES_PER_S = 50_000;

/** CPU time of the streaming processes, read at the first and at the latest page of lines. */
interface CpuMark {
  server: number;
  agent: number;
  follower: number;
}

runBench('log-streaming', async (ctx) => {
  const lines = Number(process.env.MVM_BENCH_LOG_LINES) || (ctx.quick ? 20_000 : 1_000_000);
  const server = await startBenchServer(ctx);
  const lab = await prepareLab(ctx, server, { testbeds: 1 });
  await startFactory(ctx, lab);
  const db = new FactoryDbReader(lab.dbFile);
  let agentPid: number | undefined;
  // The agent appears once the factory started it: asked for at every sample.
  const memory = new ProcSampler(
    () => ({ server: server.proc.pid, agent: (agentPid ??= db.liveInstances()[0]?.agentPid ?? undefined) }),
    250,
  );
  const cpuNow = (): CpuMark => {
    const self = process.cpuUsage();
    return {
      server: procCpuMs(server.proc.pid) ?? NaN,
      agent: agentPid === undefined ? NaN : (procCpuMs(agentPid) ?? NaN),
      follower: (self.user + self.system) / 1000,
    };
  };

  const t0 = performance.now();
  const job = await lab.submit(`seq 1 ${lines}`, 'log-streaming');
  let next = 1;
  let outOfOrder = 0;
  let firstServer = 0;
  let lastServer = 0;
  let firstSeen = 0;
  let lastSeen = 0;
  let cpuFirst: CpuMark | undefined;
  let cpuLast: CpuMark | undefined;
  let linesAtFirstMark = 0;
  let pages = 0;
  // The server stamps every event of one append with the same time: a change of it is a new
  // append (two in the same millisecond count as one).
  let appends = 0;
  let lastTime = '';
  await followEvents(lab.user, job, (evs, at) => {
    pages++;
    for (const e of evs) {
      if (e.stream !== 'stdout') continue;
      if (e.time !== lastTime) appends++;
      lastTime = e.time;
      // A duplicate or a gap shows as a line other than the next one expected.
      if (e.payload !== String(next)) outOfOrder++;
      if (next === 1) {
        firstServer = Date.parse(e.time);
        firstSeen = at;
      }
      lastServer = Date.parse(e.time);
      lastSeen = at;
      next++;
    }
    // CPU is counted from the first page of lines to the last one: the stream, not the set-up.
    if (next > 1) {
      agentPid ??= db.liveInstances()[0]?.agentPid ?? undefined;
      const mark = cpuNow();
      if (!cpuFirst) {
        cpuFirst = mark;
        linesAtFirstMark = next - 1;
      } else if (!Number.isNaN(mark.agent)) cpuLast = mark;
    }
  });
  const endToEndS = (performance.now() - t0) / 1000;
  const mem = memory.stop();
  db.close();
  const received = next - 1;
  const state = (await lab.user.getJob(job)).state;
  const serverS = (lastServer - firstServer) / 1000;
  const linesPerS = Math.round((received - 1) / serverS);
  const streamed = received - linesAtFirstMark;
  const per10k = (k: keyof CpuMark) =>
    cpuFirst && cpuLast && streamed > 0 ? round(((cpuLast[k] - cpuFirst[k]) / streamed) * 10_000, 1) : null;
  return {
    lines,
    job_state: state,
    received,
    exactly_once_in_order: received === lines && outOfOrder === 0,
    out_of_order: outOfOrder,
    server_first_to_last_s: round(serverS, 2),
    lines_per_s: linesPerS,
    follower_first_to_last_s: round((lastSeen - firstSeen) / 1000, 2),
    submit_to_last_line_seen_s: round(endToEndS, 2),
    target_lines_per_s: TARGET_LINES_PER_S,
    met: linesPerS >= TARGET_LINES_PER_S,
    target_loaded_lines_per_s: TARGET_LOADED_LINES_PER_S,
    met_loaded: linesPerS >= TARGET_LOADED_LINES_PER_S,
    lines_per_append: round(received / appends, 0),
    lines_per_follower_page: round(received / pages, 0),
    cpu_ms_per_10k_lines: { server: per10k('server'), agent: per10k('agent'), follower: per10k('follower') },
    agent: mem.agent,
    server: mem.server,
  };
});

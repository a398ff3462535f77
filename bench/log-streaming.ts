// log-streaming: one task printing LINES lines (`seq 1 LINES`) in a real lab; how fast its lines
// reach the server (the server's own time of the first and last output event), every line checked
// to arrive exactly once and in order by a user following the job, and the peak memory of the
// agent and the server meanwhile.
// Run: npx tsc -p . && node dist/bench/run.js log-streaming [--quick]
import { performance } from 'node:perf_hooks';
import { runBench } from './lib/bench.js';
import { FactoryDbReader } from './lib/factory-db.js';
import { followEvents } from './lib/follow.js';
import { prepareLab, startBenchServer, startFactory } from './lib/lab.js';
import { ProcSampler } from './lib/proc-sampler.js';
import { round } from './lib/stats.js';

const TARGET_LINES_PER_S = 50_000;

runBench('log-streaming', async (ctx) => {
  const lines = ctx.quick ? 20_000 : 1_000_000;
  const server = await startBenchServer(ctx);
  const lab = await prepareLab(ctx, server, { testbeds: 1 });
  await startFactory(ctx, lab);
  const db = new FactoryDbReader(lab.dbFile);
  // The agent appears once the factory started it: asked for at every sample.
  const memory = new ProcSampler(
    () => ({ server: server.proc.pid, agent: db.liveInstances()[0]?.agentPid ?? undefined }),
    250,
  );

  const t0 = performance.now();
  const job = await lab.submit(`seq 1 ${lines}`, 'log-streaming');
  let next = 1;
  let outOfOrder = 0;
  let firstServer = 0;
  let lastServer = 0;
  let firstSeen = 0;
  let lastSeen = 0;
  await followEvents(lab.user, job, (evs, at) => {
    for (const e of evs) {
      if (e.stream !== 'stdout') continue;
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
  });
  const endToEndS = (performance.now() - t0) / 1000;
  const mem = memory.stop();
  db.close();
  const received = next - 1;
  const state = (await lab.user.getJob(job)).state;
  const serverS = (lastServer - firstServer) / 1000;
  const linesPerS = Math.round((received - 1) / serverS);
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
    agent: mem.agent,
    server: mem.server,
  };
});

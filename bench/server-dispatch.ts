// server-dispatch: the job server's own part of dispatch. How long from a job's submission until a
// waiting worker sees it in its (long-poll) ping, a waiting factory gets its lease, and a
// factory's whole pass (lease → create → associate → bootstrap → ping) hands the job to a new
// worker — with plain HTTP calls standing in for the factory and the worker, so no process start
// is in the figures. The server's safety tick is set to an hour: every assignment measured comes
// from an event.
// Run: npx tsc -p . && node dist/bench/run.js server-dispatch [--quick]
import { performance } from 'node:perf_hooks';
import type { FactoryLeaseResult, FactoryWorker, WorkerPingResult } from '../shared/api/types.js';
import { HttpClient } from '../shared/http.js';
import { newToken } from '../shared/ids.js';
import { runBench } from './lib/bench.js';
import { jobSpec, startBenchServer, TARGET } from './lib/lab.js';
import { summarize } from './lib/stats.js';

runBench('server-dispatch', async (ctx) => {
  const rounds = ctx.quick ? 10 : 50;
  const server = await startBenchServer(ctx, 'server', ['--tick', '1h']);
  const { url, admin } = server;
  const target = (await admin.post<{ id: string }>('/0/admin/target', { name: TARGET, desc: 'bench' })).id;
  const user = new HttpClient({
    baseUrl: url,
    token: (await admin.post<{ token: string }>('/0/users', { name: 'bench' })).token,
  });
  const factory = new HttpClient({
    baseUrl: url,
    token: (await admin.post<{ token: string }>('/0/admin/factory', { name: 'bench' })).token,
    timeoutMs: 120_000,
  });
  const submit = async (name: string) => (await user.post<{ id: string }>('/0/jobs', jobSpec('true', name))).id;
  const newWorker = async (job?: string) => {
    const w = await factory.post<FactoryWorker>('/0/factory/worker', { target, job: job ?? null });
    await factory.patch(`/0/factory/worker/${w.id}`, { private: w.id });
    const token = newToken();
    await new HttpClient({ baseUrl: url }).post('/0/worker/bootstrap', { bootstrap: w.bootstrap, token });
    return { id: w.id, api: new HttpClient({ baseUrl: url, token, timeoutMs: 120_000 }) };
  };
  const finish = async (w: { id: string; api: HttpClient }, job: string) => {
    await w.api.post(`/0/worker/job/${job}/complete`, { failed: false });
    await factory.delete(`/0/factory/worker/${w.id}`);
  };

  const toPing: number[] = [];
  const toLease: number[] = [];
  const fullPass: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const w = await newWorker();
    const held = w.api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 60_000 } });
    let t0 = performance.now();
    const a = await submit(`ping-${i}`);
    if ((await held).job?.id !== a) throw new Error('the held ping did not return the job');
    toPing.push(performance.now() - t0);
    await finish(w, a);

    const leased = factory.post<FactoryLeaseResult>(
      '/0/factory/lease',
      { supported_targets: [target] },
      { query: { wait_ms: 60_000 } },
    );
    t0 = performance.now();
    const b = await submit(`lease-${i}`);
    if ((await leased).lease?.job !== b) throw new Error('the held lease did not return the job');
    toLease.push(performance.now() - t0);
    const wb = await newWorker(b);
    const ping = await wb.api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 60_000 } });
    if (ping.job?.id !== b) throw new Error('the new worker did not get the leased job');
    fullPass.push(performance.now() - t0);
    await finish(wb, b);
  }
  return {
    rounds,
    submit_to_held_ping_ms: summarize(toPing, 2),
    submit_to_held_lease_ms: summarize(toLease, 2),
    submit_to_job_in_new_workers_ping_ms: summarize(fullPass, 2),
  };
});

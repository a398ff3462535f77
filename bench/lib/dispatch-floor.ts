// The floor of dispatch latency, measured in the same run as the real thing: what a job would cost
// if mvm did nothing but start one Node.js process (`node -e 0`, spawn → exit) and make the HTTP
// round trips of dispatch, with plain calls standing in for the factory and the agent: submit → a
// held lease returns it → create worker → associate → bootstrap → a held ping returns the job → one
// stdout event appended → a user following the job's events sees it. It uses a target of its own,
// which the bench's factory does not serve.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { FactoryLeaseResult, FactoryWorker, WorkerPingResult } from '../../shared/api/types.js';
import { UserClient } from '../../shared/buildomat/user.js';
import { HttpClient } from '../../shared/http.js';
import { newToken } from '../../shared/ids.js';
import { followEvents } from './follow.js';
import { jobSpec, type BenchServer } from './lab.js';

export interface FloorRound {
  node_ms: number;
  http_ms: number;
  total_ms: number;
}

/** spawn → exit of `node -e 0`: what starting any Node.js process costs on this machine now. */
export async function nodeStartMs(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  return performance.now() - t0;
}

export async function dispatchFloor(server: BenchServer): Promise<() => Promise<FloorRound>> {
  const { url, admin } = server;
  const name = 'bench-floor';
  const target = (await admin.post<{ id: string }>('/0/admin/target', { name, desc: 'dispatch floor' })).id;
  const tag = newToken(6).toLowerCase();
  const userToken = (await admin.post<{ token: string }>('/0/users', { name: `floor-${tag}` })).token;
  const user = new HttpClient({ baseUrl: url, token: userToken, timeoutMs: 120_000 });
  const follower = new UserClient(user);
  const factory = new HttpClient({
    baseUrl: url,
    token: (await admin.post<{ token: string }>('/0/admin/factory', { name: `floor-${tag}` })).token,
    timeoutMs: 120_000,
  });
  return async () => {
    const node = await nodeStartMs();
    const leased = factory.post<FactoryLeaseResult>(
      '/0/factory/lease',
      { supported_targets: [target] },
      { query: { wait_ms: 60_000 } },
    );
    const t0 = performance.now();
    const job = (await user.post<{ id: string }>('/0/jobs', { ...jobSpec('true', 'floor'), target: name })).id;
    let seen = 0;
    const following = followEvents(follower, job, (evs, at) => {
      if (!evs.some((e) => e.stream === 'stdout')) return true;
      seen = at;
      return false;
    });
    if ((await leased).lease?.job !== job) throw new Error('the floor lease did not return its job');
    const w = await factory.post<FactoryWorker>('/0/factory/worker', { target, job });
    await factory.patch(`/0/factory/worker/${w.id}`, { private: w.id });
    const token = newToken(64);
    await new HttpClient({ baseUrl: url }).post('/0/worker/bootstrap', { bootstrap: w.bootstrap, token });
    const agent = new HttpClient({ baseUrl: url, token, timeoutMs: 120_000 });
    const ping = await agent.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 60_000 } });
    if (ping.job?.id !== job) throw new Error('the floor worker did not get its job');
    await agent.post(`/1/worker/job/${job}/append`, [
      { stream: 'stdout', payload: 'first-line', task: 0, time: new Date().toISOString() },
    ]);
    await following;
    const http = seen - t0;
    await agent.post(`/0/worker/job/${job}/complete`, { failed: false });
    await factory.delete(`/0/factory/worker/${w.id}`);
    return { node_ms: node, http_ms: http, total_ms: node + http };
  };
}

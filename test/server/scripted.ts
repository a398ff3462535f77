// A scripted factory + worker for the server tests: plain HTTP calls, no agent or factory daemon.
import type { FactoryLeaseResult, FactoryWorker, WorkerPingResult } from '../../shared/api/types.js';
import type { HttpClient } from '../../shared/http.js';
import { newToken } from '../../shared/ids.js';
import type { TestServer } from '../helpers/server.js';

export interface ScriptedWorker {
  id: string;
  token: string;
  /** Client with the worker's token. */
  api: HttpClient;
  ping(waitMs?: number): Promise<WorkerPingResult>;
  append(job: string, stream: string, payload: string, task?: number): Promise<void>;
}

/** Creates, associates and bootstraps a worker for `target` through `factory`. */
export async function startWorker(srv: TestServer, factory: HttpClient, target: string, base: string, opts: { job?: string; private?: string } = {}): Promise<ScriptedWorker> {
  const w = await factory.post<FactoryWorker>('/0/factory/worker', { target, job: opts.job ?? null });
  await factory.patch(`/0/factory/worker/${w.id}`, { private: opts.private ?? `instance-${w.id}` });
  const token = newToken();
  await srv.client(undefined, base).post('/0/worker/bootstrap', { bootstrap: w.bootstrap, token });
  const api = srv.client(token, base);
  return {
    id: w.id,
    token,
    api,
    ping: (waitMs) => api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: waitMs } }),
    append: (job, stream, payload, task) =>
      api.post(`/1/worker/job/${job}/append`, [{ stream, payload, time: new Date().toISOString(), task: task ?? null }]),
  };
}

export async function lease(factory: HttpClient, targets: string[], waitMs?: number): Promise<FactoryLeaseResult['lease']> {
  return (await factory.post<FactoryLeaseResult>('/0/factory/lease', { supported_targets: targets }, { query: { wait_ms: waitMs } })).lease ?? null;
}

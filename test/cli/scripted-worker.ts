// A scripted factory + agent for CLI integration tests: plain HTTP calls of the buildomat factory
// and worker protocols, so a test decides exactly when each event, output and completion happens.
import { HttpClient, seg } from '../../shared/http.js';
import { newId, newToken } from '../../shared/ids.js';
import type { FactoryLeaseResult, FactoryWorker, WorkerPingJob, WorkerPingResult } from '../../shared/api/types.js';
import { waitFor } from '../helpers/mvm-process.js';

export class ScriptedWorker {
  private readonly factory: HttpClient;
  private worker: HttpClient | undefined;
  workerId: string | undefined;

  constructor(
    private readonly url: string,
    factoryToken: string,
  ) {
    this.factory = new HttpClient({ baseUrl: url, token: factoryToken });
  }

  /** Leases a job of `targetId` (waiting for one to be queued), creates, associates and bootstraps a worker, and pings until the job is given. */
  async takeJob(targetId: string, timeoutMs = 30_000): Promise<WorkerPingJob> {
    const lease = await waitFor(
      async () => (await this.factory.post<FactoryLeaseResult>('/0/factory/lease', { supported_targets: [targetId] })).lease,
      `a job to lease on target ${targetId}`,
      timeoutMs,
      100,
    );
    const w = await this.factory.post<FactoryWorker>('/0/factory/worker', { target: lease.target, job: lease.job });
    this.workerId = w.id;
    await this.factory.patch(`/0/factory/worker/${seg(w.id)}`, { private: `instance-${newId()}` });
    const token = newToken(64);
    await new HttpClient({ baseUrl: this.url }).post('/0/worker/bootstrap', { bootstrap: w.bootstrap, token });
    this.worker = new HttpClient({ baseUrl: this.url, token });
    return waitFor(
      async () => (await this.worker!.get<WorkerPingResult>('/0/worker/ping')).job ?? undefined,
      'the job to be assigned to the worker',
      timeoutMs,
      100,
    );
  }

  private get w(): HttpClient {
    if (!this.worker) throw new Error('no worker yet: call takeJob first');
    return this.worker;
  }

  async append(job: string, events: { stream: string; payload: string; task?: number | null }[]): Promise<void> {
    const time = new Date().toISOString();
    await this.w.post(
      `/1/worker/job/${seg(job)}/append`,
      events.map((e) => ({ stream: e.stream, payload: e.payload, task: e.task ?? null, time })),
    );
  }

  async input(job: string, input: string): Promise<Buffer> {
    const res = await this.w.raw('GET', `/0/worker/job/${seg(job)}/inputs/${seg(input)}`);
    const parts: Buffer[] = [];
    for await (const c of res.body) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  async output(job: string, path: string, data: Buffer): Promise<void> {
    const chunk = await this.w.json<{ id: string }>('POST', `/0/worker/job/${seg(job)}/chunk`, { body: data });
    const commit = { path, size: data.length, chunks: [chunk.id], commit_id: newId() };
    await waitFor(
      async () => {
        const r = await this.w.post<{ complete: boolean; error?: string | null }>(`/1/worker/job/${seg(job)}/output`, commit);
        if (r.error) throw new Error(`output refused: ${r.error}`);
        return r.complete;
      },
      `output ${path} to be committed`,
      20_000,
      50,
    );
  }

  async completeTask(job: string, task: number, failed: boolean): Promise<void> {
    await this.w.post(`/0/worker/job/${seg(job)}/task/${task}/complete`, { failed });
  }

  async completeJob(job: string, failed: boolean): Promise<void> {
    await this.w.post(`/0/worker/job/${seg(job)}/complete`, { failed });
  }

  /** Deletes the worker, as a factory does once the job is over. */
  async destroy(): Promise<void> {
    if (this.workerId) await this.factory.delete(`/0/factory/worker/${seg(this.workerId)}`).catch(() => undefined);
  }
}

// A scripted factory + agent for CLI integration tests, on top of test/helpers/server.ts: plain HTTP
// calls of the buildomat factory and worker protocols, so a test decides exactly when each event,
// input download, output, and completion happens.
import type { HttpClient } from '../../shared/http.js';
import { seg } from '../../shared/http.js';
import { newId } from '../../shared/ids.js';
import type { WorkerPingJob } from '../../shared/api/types.js';
import { waitFor } from '../helpers/mvm-process.js';
import { leaseJob, startScriptedWorker, type TestServer } from '../helpers/server.js';

export class ScriptedWorker {
  private readonly factory: HttpClient;
  private worker: HttpClient | undefined;
  workerId: string | undefined;

  /** `base` is where the worker sends its calls (a conformance proxy in front of `srv`). */
  constructor(
    private readonly srv: TestServer,
    private readonly base: string,
    factoryToken: string,
  ) {
    this.factory = srv.client(factoryToken, base);
  }

  /** Leases a job of `targetId` (waiting for one to be queued), starts a worker for it, and pings until the job is given. */
  async takeJob(targetId: string, timeoutMs = 30_000): Promise<WorkerPingJob> {
    const lease = await waitFor(
      () => leaseJob(this.factory, [targetId]),
      `a job to lease on target ${targetId}`,
      timeoutMs,
      100,
    );
    const w = await startScriptedWorker(this.srv, this.factory, lease!.target, this.base, { job: lease!.job });
    this.workerId = w.id;
    this.worker = w.api;
    const job = await waitFor(async () => (await w.ping()).job, 'the job to be assigned to the worker', timeoutMs, 100);
    return job!;
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
        const r = await this.w.post<{ complete: boolean; error?: string | null }>(
          `/1/worker/job/${seg(job)}/output`,
          commit,
        );
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

// The worker side of the buildomat protocol (what an agent calls), typed over shared/http.ts.
// One method per operation; no retries here — the agent decides what to retry and how.
import type { Readable } from 'node:stream';
import { HttpClient, seg, type HttpClientOptions } from '../http.js';
import type {
  WorkerAddOutput,
  WorkerAddOutputResult,
  WorkerAppendJobOrTask,
  WorkerBootstrapResult,
  WorkerJobQuota,
  WorkerPingResult,
  WorkerAppend,
  UploadedChunk,
} from '../api/types.js';

export type { WorkerAppendJobOrTask, WorkerPingResult, WorkerAddOutput, WorkerAddOutputResult };

export class WorkerClient {
  readonly http: HttpClient;

  constructor(opts: HttpClientOptions | HttpClient) {
    this.http = opts instanceof HttpClient ? opts : new HttpClient({ userAgent: 'mvm-agent', ...opts });
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** Registers the agent's own token for the worker named by `bootstrap`; the token is used from then on. */
  async bootstrap(bootstrap: string, token: string, signal?: AbortSignal): Promise<WorkerBootstrapResult> {
    this.http.setToken(undefined);
    const res = await this.http.post<WorkerBootstrapResult>('/0/worker/bootstrap', { bootstrap, token }, { signal });
    this.http.setToken(token);
    return res;
  }

  /** Uses `token` without bootstrapping (an agent that already bootstrapped). */
  useToken(token: string): void {
    this.http.setToken(token);
  }

  /**
   * `waitMs`: mvm server's extension — the ping is held until the worker has a job or must power
   * off (at most waitMs). A real buildomat ignores it and answers at once.
   */
  ping(signal?: AbortSignal, waitMs?: number): Promise<WorkerPingResult> {
    const wait = waitMs && waitMs > 0 ? Math.round(waitMs) : undefined;
    return this.http.get<WorkerPingResult>('/0/worker/ping', {
      signal,
      query: { wait_ms: wait },
      timeoutMs: wait === undefined ? undefined : wait + 30_000,
    });
  }

  /** Job and task events, in order; at most 100 per call by convention. */
  async appendJob(job: string, events: WorkerAppendJobOrTask[], signal?: AbortSignal): Promise<void> {
    await this.http.post(`/1/worker/job/${seg(job)}/append`, events, { signal });
  }

  /** Job and task events already serialised as a JSON array (the agent's queue keeps them as bytes). */
  async appendJobRaw(job: string, body: Buffer, signal?: AbortSignal): Promise<void> {
    await this.http.json('POST', `/1/worker/job/${seg(job)}/append`, { body, contentType: 'application/json', signal });
  }

  /** Events about the worker itself (no job yet, or none any more). */
  async appendWorker(events: WorkerAppend[], signal?: AbortSignal): Promise<void> {
    await this.http.post('/0/worker/append', events, { signal });
  }

  async completeTask(job: string, task: number, failed: boolean, signal?: AbortSignal): Promise<void> {
    await this.http.post(`/0/worker/job/${seg(job)}/task/${seg(task)}/complete`, { failed }, { signal });
  }

  async completeJob(job: string, failed: boolean, signal?: AbortSignal): Promise<void> {
    await this.http.post(`/0/worker/job/${seg(job)}/complete`, { failed }, { signal });
  }

  /** Reports a fatal agent problem: the server fails the worker and its job. */
  async fail(reason: string | undefined, signal?: AbortSignal): Promise<void> {
    await this.http.post('/0/worker/fail', reason === undefined ? {} : { reason }, { signal });
  }

  async uploadChunk(job: string, data: Buffer, signal?: AbortSignal): Promise<string> {
    const res = await this.http.json<UploadedChunk>('POST', `/0/worker/job/${seg(job)}/chunk`, {
      body: data,
      contentType: 'application/octet-stream',
      signal,
      timeoutMs: 120_000,
    });
    return res.id;
  }

  addOutput(job: string, output: WorkerAddOutput, signal?: AbortSignal): Promise<WorkerAddOutputResult> {
    return this.http.post<WorkerAddOutputResult>(`/1/worker/job/${seg(job)}/output`, output, { signal });
  }

  quota(job: string, signal?: AbortSignal): Promise<WorkerJobQuota> {
    return this.http.get<WorkerJobQuota>(`/0/worker/job/${seg(job)}/quota`, { signal });
  }

  /** The input's bytes as a stream; the caller must consume or destroy it. */
  async downloadInput(job: string, input: string, signal?: AbortSignal): Promise<Readable> {
    const res = await this.http.raw('GET', `/0/worker/job/${seg(job)}/inputs/${seg(input)}`, {
      signal,
      timeoutMs: 120_000,
    });
    return res.body;
  }
}

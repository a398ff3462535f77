// Typed client for the user side of the buildomat API (jobs, inputs, events, outputs), over the
// shared HttpClient. Only operations of the spec are used, so it works against any buildomat server;
// `waitMs` adds the embedded server's long-poll parameter, which a real buildomat server ignores.
import type { Readable } from 'node:stream';
import { HttpClient, seg } from '../http.js';
import type {
  Job,
  JobAddInput,
  JobAddInputResult,
  JobEvent,
  JobListEntry,
  JobListEntryResultsPage,
  JobOutput,
  JobSubmit,
  JobSubmitResult,
  Quota,
  UploadedChunk,
  WhoamiResult,
} from '../api/types.js';

export interface EventsOptions {
  /** Ask the server to hold the request until an event newer than `minseq` exists (mvm extension). */
  waitMs?: number;
  signal?: AbortSignal;
}

export class UserClient {
  constructor(readonly http: HttpClient) {}

  whoami(signal?: AbortSignal): Promise<WhoamiResult> {
    return this.http.get('/0/whoami', { signal });
  }

  quota(signal?: AbortSignal): Promise<Quota> {
    return this.http.get('/0/quota', { signal });
  }

  async submitJob(job: JobSubmit, signal?: AbortSignal): Promise<string> {
    const r = await this.http.post<JobSubmitResult>('/0/jobs', job, { signal });
    return r.id;
  }

  getJob(job: string, signal?: AbortSignal): Promise<Job> {
    return this.http.get(`/0/job/${seg(job)}`, { signal });
  }

  /** One page of the job list; pass `next_page` back as `pageToken` for the next. */
  listJobsPage(opts: { limit?: number; pageToken?: string; recentFirst?: boolean; signal?: AbortSignal } = {}) {
    return this.http.get<JobListEntryResultsPage>('/1/jobs', {
      query: { limit: opts.limit, page_token: opts.pageToken, recent_first: opts.recentFirst },
      signal: opts.signal,
    });
  }

  /** Every job visible to this user, following pages up to `max` entries. */
  async listJobs(opts: { max?: number; recentFirst?: boolean; signal?: AbortSignal } = {}): Promise<JobListEntry[]> {
    const max = opts.max ?? 1000;
    const out: JobListEntry[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.listJobsPage({
        limit: Math.min(100, max - out.length),
        pageToken,
        recentFirst: opts.recentFirst,
        signal: opts.signal,
      });
      out.push(...page.items);
      pageToken = page.next_page ?? undefined;
    } while (pageToken && out.length < max);
    return out.slice(0, max);
  }

  events(job: string, minseq: number, opts: EventsOptions = {}): Promise<JobEvent[]> {
    return this.http.get(`/0/jobs/${seg(job)}/events`, {
      query: { minseq, wait_ms: opts.waitMs },
      signal: opts.signal,
      // A held request may legitimately last as long as the wait asked for.
      timeoutMs: opts.waitMs ? opts.waitMs + 30_000 : undefined,
    });
  }

  cancel(job: string, signal?: AbortSignal): Promise<void> {
    return this.http.post(`/0/jobs/${seg(job)}/cancel`, undefined, { signal });
  }

  outputs(job: string, signal?: AbortSignal): Promise<JobOutput[]> {
    return this.http.get(`/0/jobs/${seg(job)}/outputs`, { signal });
  }

  /** The bytes of one output, as a stream the caller must consume. */
  async downloadOutput(job: string, output: string, signal?: AbortSignal): Promise<Readable> {
    const res = await this.http.raw('GET', `/0/jobs/${seg(job)}/outputs/${seg(output)}`, { signal });
    return res.body;
  }

  async uploadChunk(job: string, data: Buffer, signal?: AbortSignal): Promise<string> {
    const r = await this.http.json<UploadedChunk>('POST', `/0/jobs/${seg(job)}/chunk`, {
      body: data,
      contentType: 'application/octet-stream',
      signal,
    });
    return r.id;
  }

  addInput(job: string, input: JobAddInput, signal?: AbortSignal): Promise<JobAddInputResult> {
    return this.http.post(`/1/jobs/${seg(job)}/input`, input, { signal });
  }
}

// The factory side of the buildomat API (shared/api/buildomat-openapi.json, doc/buildomat.md), typed, over shared/http.ts.
// Works against a real buildomat server and against `mvm server`; the only extension used is the
// embedded server's long-poll `?wait_ms=N` on lease, which a real buildomat ignores.
import { HttpClient, seg, type HttpClientOptions } from '../http.js';
import type {
  FactoryLease,
  FactoryLeaseResult,
  FactoryMetadata,
  FactoryPingResult,
  FactoryWorker,
  FactoryWorkerAppendResult,
  FactoryWorkerResult,
  Target,
} from '../api/types.js';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface LeaseOptions extends CallOptions {
  /** Ask the server to hold the request up to this long while no job is queued (0: answer at once). */
  waitMs?: number;
}

export interface CreateWorkerOptions {
  target: string;
  job?: string | null;
  waitForFlush?: boolean;
}

export interface AssociateOptions {
  private: string;
  ip?: string | null;
  metadata?: FactoryMetadata | null;
}

export class FactoryClient {
  readonly http: HttpClient;

  constructor(opts: HttpClientOptions | HttpClient) {
    this.http = opts instanceof HttpClient ? opts : new HttpClient({ userAgent: 'mvm-factory', ...opts });
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  async ping(opts: CallOptions = {}): Promise<FactoryPingResult> {
    return this.http.get<FactoryPingResult>('/0/factory/ping', opts);
  }

  /** Leases one queued job of one of `targets` (ids), or null when there is none. */
  async lease(targets: string[], opts: LeaseOptions = {}): Promise<FactoryLease | null> {
    const waitMs = opts.waitMs && opts.waitMs > 0 ? Math.round(opts.waitMs) : undefined;
    const res = await this.http.post<FactoryLeaseResult>(
      '/0/factory/lease',
      { supported_targets: targets },
      {
        signal: opts.signal,
        query: { wait_ms: waitMs },
        // The long poll must not trip the client's own timeout.
        timeoutMs: waitMs === undefined ? undefined : waitMs + 30_000,
      },
    );
    return res?.lease ?? null;
  }

  async renewLease(job: string, opts: CallOptions = {}): Promise<boolean> {
    return this.http.post<boolean>(`/0/factory/lease/${seg(job)}`, undefined, opts);
  }

  async createWorker(w: CreateWorkerOptions, opts: CallOptions = {}): Promise<FactoryWorker> {
    return this.http.post<FactoryWorker>(
      '/0/factory/worker',
      { target: w.target, job: w.job ?? null, wait_for_flush: w.waitForFlush ?? false },
      opts,
    );
  }

  /** The worker, or null when the server does not know it (never created, or deleted). */
  async getWorker(id: string, opts: CallOptions = {}): Promise<FactoryWorker | null> {
    const res = await this.http.get<FactoryWorkerResult>(`/0/factory/worker/${seg(id)}`, opts);
    return res?.worker ?? null;
  }

  /** This factory's live workers. */
  async listWorkers(opts: CallOptions = {}): Promise<FactoryWorker[]> {
    return (await this.http.get<FactoryWorker[]>('/0/factory/workers', opts)) ?? [];
  }

  /** Sets the worker's `private` (and optionally ip, metadata); the same values again are accepted. */
  async associate(id: string, a: AssociateOptions, opts: CallOptions = {}): Promise<void> {
    const body: Record<string, unknown> = { private: a.private };
    if (a.ip !== undefined) body.ip = a.ip;
    if (a.metadata !== undefined) body.metadata = a.metadata;
    await this.http.patch<void>(`/0/factory/worker/${seg(id)}`, body, opts);
  }

  async deleteWorker(id: string, opts: CallOptions = {}): Promise<boolean> {
    return this.http.delete<boolean>(`/0/factory/worker/${seg(id)}`, opts);
  }

  /** Appends a console-style event; `retry: true` means the worker has no job yet. */
  async append(
    id: string,
    ev: { stream: string; payload: string; time?: Date },
    opts: CallOptions = {},
  ): Promise<FactoryWorkerAppendResult> {
    return this.http.post<FactoryWorkerAppendResult>(
      `/0/factory/worker/${seg(id)}/append`,
      { stream: ev.stream, payload: ev.payload, time: (ev.time ?? new Date()).toISOString() },
      opts,
    );
  }

  async flush(id: string, opts: CallOptions = {}): Promise<void> {
    await this.http.post<void>(`/0/factory/worker/${seg(id)}/flush`, undefined, opts);
  }
}

/**
 * Lists targets through the admin API (needs an admin-capable token): how target names in the
 * factory config are turned into the ids the factory API wants.
 */
export async function listTargets(http: HttpClient, opts: CallOptions = {}): Promise<Target[]> {
  return (await http.get<Target[]>('/0/admin/targets', opts)) ?? [];
}

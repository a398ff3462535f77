// The job's event log, delivered in order: events are queued (bounded memory, spilling to disk),
// sent in batches of at most 1,000 after a short flush interval, and each batch is resent — the same
// batch, with the same timestamps — with backoff until the server takes it. Nothing is dropped
// while the server is unreachable, however long that lasts. A job the server no longer accepts
// events for (409, 404, 401/403: completed, cancelled, worker deleted) ends delivery: `onGone` is
// called and what is queued is discarded.
import type { Logger } from 'pino';
import { ApiError } from '../shared/errors.js';
import { backoffDelay } from '../shared/retry.js';
import { sleep, Waker } from '../shared/sleep.js';
import type { WorkerClient } from '../shared/buildomat/worker.js';
import { EventClock } from './event-time.js';
import { EventSpool, type AgentEvent, type SpoolBatch } from './spool.js';

/**
 * Events per append: what mvm server takes in one (buildomat's own agent sends at most 100). A
 * fast task's lines pile up while an append is on its way, and the next append takes them all:
 * the server's cost per append (a request, a transaction) is then paid once per 1,000 lines.
 */
export const BATCH_MAX = 1000;

export interface EventStreamOptions {
  client: Pick<WorkerClient, 'appendJobRaw'>;
  job: string;
  spool: EventSpool;
  log: Logger;
  clock?: EventClock;
  /** How long a partial batch waits for more events, ms. */
  flushMs?: number;
  batchMax?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Called once when the server says the job takes no more events. */
  onGone?: (err: ApiError) => void;
}

export type EventStreamState = 'open' | 'gone' | 'closed';

export class EventStream {
  private readonly clock: EventClock;
  private readonly wake = new Waker();
  private readonly stop = new AbortController();
  private pushed = 0;
  private settled = 0;
  private waiters: Array<{ target: number; resolve: () => void }> = [];
  private loop: Promise<void>;
  private urgent = false;
  private spillReported = false;
  state: EventStreamState = 'open';
  /** Delivery attempts that failed and were retried (for tests and logs). */
  retries = 0;
  /** Events the server refused as malformed (never expected; logged). */
  rejected = 0;

  constructor(private readonly opts: EventStreamOptions) {
    this.clock = opts.clock ?? new EventClock();
    this.loop = this.run();
  }

  /** Queues one event; its time is taken now. */
  emit(stream: string, payload: string, task?: number): void {
    if (this.state !== 'open') return;
    const ev: AgentEvent = { stream, payload, time: this.clock.next() };
    if (task !== undefined) ev.task = task;
    this.opts.spool.push(ev);
    this.pushed++;
    this.reportSpill();
    const queued = this.opts.spool.length;
    // Wake the sender when the queue stops being empty (it starts the flush interval) and when a
    // batch is full (it need not wait any longer).
    if (queued === 1 || queued === (this.opts.batchMax ?? BATCH_MAX)) this.wake.wake();
  }

  /** Says once (in the log and the job's events) that the disk refused the spool, and again after it recovered. */
  private reportSpill(): void {
    const err = this.opts.spool.spillError;
    if (!err) {
      this.spillReported = false;
      return;
    }
    if (this.spillReported) return;
    this.spillReported = true;
    this.opts.log.warn(
      { err: err.message, backlog: this.backlog },
      'cannot spill queued events to disk; keeping them in memory',
    );
    this.emit(
      'worker',
      `agent warning: cannot spill queued events to disk (${err.message}); keeping them in memory until the server takes them`,
    );
  }

  /** Events queued and not yet delivered. */
  get backlog(): number {
    return this.pushed - this.settled;
  }

  /**
   * Resolves when every event emitted so far has been delivered (or can no longer be), or
   * when `signal` aborts (then some may still be queued).
   */
  flush(signal?: AbortSignal): Promise<void> {
    const target = this.pushed;
    if (this.settled >= target) return Promise.resolve();
    this.urgent = true;
    this.wake.wake();
    return new Promise((resolve) => {
      const entry = { target, resolve: () => done() };
      const done = () => {
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== entry);
        resolve();
      };
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(entry);
    });
  }

  /** Stops delivery (after a flush, normally) and removes the spool file. */
  async close(): Promise<void> {
    if (this.state === 'open') this.state = 'closed';
    this.stop.abort();
    this.wake.wake();
    await this.loop;
    this.opts.spool.close();
    this.settle(Number.MAX_SAFE_INTEGER);
  }

  private settle(n: number): void {
    this.settled = Math.min(this.pushed, n);
    const ready = this.waiters.filter((w) => w.target <= this.settled);
    for (const w of ready) w.resolve();
  }

  private async run(): Promise<void> {
    const { spool, log } = this.opts;
    const batchMax = this.opts.batchMax ?? BATCH_MAX;
    const flushMs = this.opts.flushMs ?? 100;
    const signal = this.stop.signal;
    while (!signal.aborted) {
      if (spool.length === 0) {
        this.urgent = false;
        await this.wake.wait(1000, signal);
        continue;
      }
      if (spool.length < batchMax && !this.urgent) await this.wake.wait(flushMs, signal);
      if (signal.aborted) break;
      const batch = spool.peekBatch(batchMax);
      if (!batch) continue;
      const ok = await this.deliver(batch, signal);
      if (ok === 'delivered') {
        spool.shift(batch.count);
        this.settle(this.settled + batch.count);
      } else if (ok === 'rejected') {
        spool.shift(batch.count);
        this.rejected += batch.count;
        this.settle(this.settled + batch.count);
      } else if (ok === 'gone') {
        const dropped = spool.clear();
        if (dropped > 0) log.warn({ dropped }, 'job takes no more events; discarding what is queued');
        this.settle(Number.MAX_SAFE_INTEGER);
        return;
      }
    }
  }

  /** Sends one batch until it lands; the same batch on every attempt. */
  private async deliver(
    batch: SpoolBatch,
    signal: AbortSignal,
  ): Promise<'delivered' | 'rejected' | 'gone' | 'stopped'> {
    const { client, job, log } = this.opts;
    for (let attempt = 1; ; attempt++) {
      try {
        await client.appendJobRaw(job, batch.body, signal);
        if (attempt > 1) log.info({ attempt, events: batch.count }, 'event delivery resumed');
        return 'delivered';
      } catch (err) {
        if (signal.aborted) return 'stopped';
        const status = err instanceof ApiError ? err.status : undefined;
        if (status === 409 || status === 404 || status === 401 || status === 403) {
          this.state = 'gone';
          log.info({ status, err: (err as Error).message }, 'the server takes no more events for this job');
          this.opts.onGone?.(err as ApiError);
          return 'gone';
        }
        if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
          log.error({ err: (err as Error).message, events: batch.count }, 'the server refused a batch of events');
          return 'rejected';
        }
        this.retries++;
        const delay = backoffDelay(attempt, this.opts.retryBaseMs ?? 250, this.opts.retryMaxMs ?? 5000);
        const level = attempt === 1 || attempt % 20 === 0 ? 'warn' : 'debug';
        log[level](
          { attempt, delayMs: delay, backlog: this.backlog, err: (err as Error).message },
          'event delivery failed; retrying',
        );
        try {
          await sleep(delay, signal);
        } catch {
          return 'stopped';
        }
      }
    }
  }
}

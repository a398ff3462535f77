// Following a job's events as they arrive. Each request asks for events from the next sequence
// number on; the embedded server holds it (`wait_ms`) until one exists, so an event is shown the
// moment it is written. A server that ignores `wait_ms` (buildomat) answers at once, and then we
// poll about once a second instead of hammering it.
import type { Job, JobEvent } from '../shared/api/types.js';
import type { UserClient } from '../shared/buildomat/user.js';
import { retry } from '../shared/retry.js';
import { sleep } from '../shared/sleep.js';
import { isFinished } from './format.js';

export interface FollowOptions {
  client: UserClient;
  job: string;
  onEvent: (e: JobEvent) => void;
  /** Keep going until the job finishes (true) or stop once the events so far are shown (false). */
  follow: boolean;
  /** The first sequence number wanted. */
  minseq?: number;
  /** How long to ask the server to hold an events request. */
  waitMs?: number;
  /** Pause between polls of a server that does not hold requests. */
  pollMs?: number;
  signal?: AbortSignal;
  /** Called when a transient failure is retried. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  now?: () => number;
  /** Injected for tests; defaults to an abortable sleep. */
  pause?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface FollowResult {
  job: Job;
  events: number;
  /** Whether the server held requests open (honoured wait_ms); undefined when never observed. */
  serverWaits: boolean | undefined;
}

/** Transient failures (server restarting, network blip) are retried for about a minute. */
const RETRY = { attempts: 10, baseMs: 250, maxMs: 8_000 };

/** An empty answer that took at least this long (or half the wait asked for) was held by the server. */
const HELD_MS = 1_000;

export async function followEvents(opts: FollowOptions): Promise<FollowResult> {
  const { client, job: jobId, signal } = opts;
  // The embedded server also answers as soon as the job ends, so a long hold costs nothing.
  const waitMs = opts.waitMs ?? 20_000;
  const pause = opts.pause ?? sleep;
  const pollMs = opts.pollMs ?? 1_000;
  const now = opts.now ?? Date.now;
  const again = <T>(fn: () => Promise<T>) => retry(fn, { ...RETRY, signal, onRetry: opts.onRetry });

  let next = opts.minseq ?? 0;
  let count = 0;
  let serverWaits: boolean | undefined;
  let job = await again(() => client.getJob(jobId, signal));
  for (;;) {
    // Once the job has finished, drain what is left without holding requests.
    const draining = isFinished(job) || !opts.follow;
    const asked = now();
    const events = await again(() => client.events(jobId, next, { waitMs: draining ? undefined : waitMs, signal }));
    const elapsed = now() - asked;
    for (const e of events) {
      if (e.seq < next) continue;
      opts.onEvent(e);
      next = e.seq + 1;
      count++;
    }
    if (draining) {
      if (events.length === 0) return { job, events: count, serverWaits };
      continue;
    }
    job = await again(() => client.getJob(jobId, signal));
    if (isFinished(job) || events.length > 0) continue;
    // Nothing new and the answer came back at once: this server does not hold requests, so pause
    // before asking again. (Decided on every empty answer, so a wrong guess cannot make a busy loop.)
    serverWaits = elapsed >= Math.min(waitMs / 2, HELD_MS);
    if (!serverWaits) await pause(pollMs, signal);
  }
}

// Retry with exponential backoff and full jitter. Only errors judged retryable are retried.
import type { Logger } from 'pino';
import { isRetryable } from './errors.js';
import { sleep } from './sleep.js';

export interface RetryOptions {
  /** Attempts in all, including the first; Infinity retries until aborted. */
  attempts?: number;
  baseMs?: number;
  maxMs?: number;
  signal?: AbortSignal;
  retryable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

/** The delay before retry number `attempt` (1-based): uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelay(attempt: number, baseMs = 250, maxMs = 30_000, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(random() * ceiling);
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const retryable = opts.retryable ?? isRetryable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !retryable(err) || opts.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, opts.baseMs, opts.maxMs, opts.random);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}

export interface PersistOptions {
  signal?: AbortSignal;
  log: Logger;
  /** What is being called, for the log lines. */
  what: string;
  baseMs?: number;
  maxMs?: number;
  /** Extra errors to retry (e.g. 409 "not yet" answers). */
  retryAlso?: (err: unknown) => boolean;
}

/**
 * Calls a server until it answers: retryable failures (network, 5xx, 408, 429) are retried with
 * backoff and jitter for as long as it takes — an agent outlives a server restart — and anything
 * else is thrown to the caller. Only `signal` ends the waiting. Logs the first failure and every
 * 20th at warn, the others at debug, and a success after retries at info.
 */
export function persist<T>(fn: () => Promise<T>, opts: PersistOptions): Promise<T> {
  return retry(
    async (attempt) => {
      const v = await fn();
      if (attempt > 1) opts.log.info({ what: opts.what, attempt }, 'server call succeeded after retries');
      return v;
    },
    {
      attempts: Infinity,
      baseMs: opts.baseMs ?? 250,
      maxMs: opts.maxMs ?? 5000,
      signal: opts.signal,
      retryable: (err) => isRetryable(err) || (opts.retryAlso?.(err) ?? false),
      onRetry: (err, attempt, delayMs) => {
        const level = attempt === 1 || attempt % 20 === 0 ? 'warn' : 'debug';
        opts.log[level](
          { what: opts.what, attempt, delayMs, err: (err as Error).message },
          'server call failed; retrying',
        );
      },
    },
  );
}

// Calls the server until it answers: retryable failures (network, 5xx, 408, 429) are retried with
// backoff and jitter for as long as it takes — an agent outlives a server restart — and anything
// else is thrown to the caller. Only `signal` ends the waiting.
import type { Logger } from 'pino';
import { isRetryable } from '../shared/errors.js';
import { backoffDelay } from '../shared/retry.js';
import { sleep } from '../shared/sleep.js';

export interface PersistOptions {
  signal?: AbortSignal;
  log: Logger;
  what: string;
  baseMs?: number;
  maxMs?: number;
  /** Extra errors to retry (e.g. 409 "not yet" answers). */
  retryAlso?: (err: unknown) => boolean;
}

export async function persist<T>(fn: () => Promise<T>, opts: PersistOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      const v = await fn();
      if (attempt > 1) opts.log.info({ what: opts.what, attempt }, 'server call succeeded after retries');
      return v;
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (!isRetryable(err) && !opts.retryAlso?.(err)) throw err;
      const delay = backoffDelay(attempt, opts.baseMs ?? 250, opts.maxMs ?? 5000);
      const level = attempt === 1 || attempt % 20 === 0 ? 'warn' : 'debug';
      opts.log[level](
        { what: opts.what, attempt, delayMs: delay, err: (err as Error).message },
        'server call failed; retrying',
      );
      await sleep(delay, opts.signal);
    }
  }
}

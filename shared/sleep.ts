// Abortable waiting. Every long wait in mvm goes through here so that an AbortSignal ends it at once.
import { MvmError, TimeoutError } from './errors.js';

/** The error an aborted wait rejects with: the deadline's TimeoutError as is, else ABORTED. */
export function abortError(signal?: AbortSignal): MvmError {
  const reason = signal?.reason;
  if (reason instanceof TimeoutError) return reason;
  return new MvmError('ABORTED', reason instanceof Error ? reason.message : 'operation aborted', {
    cause: reason,
  });
}

/** A signal that aborts when any of the given ones does (the undefined ones are left out). */
export function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}

/**
 * `signal` with a deadline: it aborts when `signal` does, or after `ms` with a TimeoutError
 * naming `what` as its reason (abortError() hands that on, so a timeout stays a typed failure).
 */
export function withDeadline(ms: number, what: string, signal?: AbortSignal): AbortSignal {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new TimeoutError(what, ms)), ms);
  timer.unref?.();
  deadline.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
}

/** Resolves after `ms`, or rejects with an ABORTED error as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Like sleep, but resolves `false` instead of rejecting when aborted. */
export async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}

/** The reason of a `Waker.nextWake()` signal: something happened, not a shutdown. */
export class WokenError extends Error {
  constructor() {
    super('woken by an event');
    this.name = 'WokenError';
  }
}

/** Waits for `wake` to be called, `ms` to pass, or `signal` to abort, whichever comes first. */
export class Waker {
  private waiters: Array<() => void> = [];
  private pending = false;
  private cuts: AbortController[] = [];

  /** Wakes the current waiter, or the next one if nobody waits yet; cuts short what `nextWake` guards. */
  wake(): void {
    if (this.cuts.length > 0) {
      const cuts = this.cuts;
      this.cuts = [];
      for (const c of cuts) c.abort(new WokenError());
    }
    if (this.waiters.length === 0) {
      this.pending = true;
      return;
    }
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /**
   * A signal that aborts (with a WokenError) at the next wake: for a long call, such as a held
   * request, that an event should cut short. The wake still counts for the next `wait`.
   */
  nextWake(): { signal: AbortSignal; dispose(): void } {
    const c = new AbortController();
    this.cuts.push(c);
    return { signal: c.signal, dispose: () => (this.cuts = this.cuts.filter((x) => x !== c)) };
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }
}

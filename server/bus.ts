// In-process wake-ups for long-polls and the watch stream: whoever changes a job, a worker or the
// queue notifies its key; whoever waits on that key resumes at once (no polling).

export type BusKey = `job:${string}` | `worker:${string}` | 'queue';

export class Bus {
  private readonly waiters = new Map<string, Set<() => void>>();

  notify(key: BusKey): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const w of set) w();
  }

  /** Resolves on the next notify of `key`, after `ms`, or when `signal` aborts. */
  wait(key: BusKey, ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(key);
      if (!set) this.waiters.set(key, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.get(key)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** How many wait on `key` now (tests: a long-poll is held). */
  waiting(key: BusKey): number {
    return this.waiters.get(key)?.size ?? 0;
  }

  /** Wakes every waiter (shutdown). */
  wakeAll(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const w of set) w();
  }
}

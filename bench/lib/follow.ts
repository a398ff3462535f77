// Following a job's events as a user does: the events long-poll (`wait_ms`, the embedded server's
// extension) from `minseq`, page after page, until the job is complete and every event was read.
// Each page is handed over with the moment it arrived, so latency is measured where a user sees it.
import { performance } from 'node:perf_hooks';
import type { JobEvent } from '../../shared/api/types.js';
import type { UserClient } from '../../shared/buildomat/user.js';

/** Return false from the callback to stop following. */
export type OnEvents = (events: JobEvent[], arrivedAt: number) => boolean | void;

export async function followEvents(
  user: UserClient,
  job: string,
  onEvents: OnEvents,
  signal?: AbortSignal,
): Promise<void> {
  let minseq = 1;
  for (;;) {
    const evs = await user.events(job, minseq, { waitMs: 30_000, signal });
    const at = performance.now();
    if (evs.length > 0) {
      minseq = evs[evs.length - 1].seq + 1;
      if (onEvents(evs, at) === false) return;
      continue;
    }
    // An empty page: the wait ran out, or the job is complete and nothing is left.
    if (isDone((await user.getJob(job, signal)).state)) {
      const rest = await user.events(job, minseq, { signal });
      if (rest.length === 0) return;
      minseq = rest[rest.length - 1].seq + 1;
      if (onEvents(rest, performance.now()) === false) return;
    }
  }
}

/** Whether a job state is final. */
export const isDone = (state: string): boolean => state === 'completed' || state === 'failed';

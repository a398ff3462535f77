// The factory's main loop: tick, then wait until work may be waiting (a testbed freed, an agent
// exited: the Waker) or the poll interval passes. While there is free capacity the tick's lease
// call long-polls instead, so a queued job is picked up at once; a wake cuts that call short. SIGTERM stops leasing and drains
// live instances for up to drain_timeout; a second signal stops at once. Agents still running
// then are left alone: a restarted factory adopts them.
import { describeError, isAbortError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { Waker } from '../shared/sleep.js';
import type { Factory } from './tick.js';

export interface LoopOptions {
  pollIntervalMs: number;
  leaseWaitMs: number;
  drainTimeoutMs: number;
  graceful: AbortSignal;
  force: AbortSignal;
  waker: Waker;
  log: Logger;
  /** Called once, after the first pass. */
  onStarted?: () => void;
}

/**
 * How soon to look again while an agent is coming up. A local agent's "online" wakes the loop at
 * once (factory/executor/local.ts); this re-check is for the others (over SSH, adopted after a
 * restart) and in case the hint is lost.
 */
export const SETTLING_RECHECK_MS = 100;

export async function runLoop(factory: Factory, o: LoopOptions): Promise<{ drained: boolean; left: number }> {
  let started = false;
  let settling = 0;
  while (!o.graceful.aborted) {
    let longPolled = false;
    const first = !started;
    try {
      // The lease long-poll is capped by the poll interval so SIGTERM and new events are seen
      // promptly, and skipped while an agent comes up, so its flush is not held behind it.
      // The first pass does not hold it either: "started" comes after one quick pass.
      const leaseWaitMs = settling > 0 || !started ? 0 : Math.min(o.leaseWaitMs, o.pollIntervalMs);
      // A wake (a testbed freed, a reservation released, an agent exited) cuts the held lease short:
      // the next pass then leases for every free testbed at once, not after the long poll.
      const wake = o.waker.nextWake();
      try {
        const r = await factory.tick({ lease: true, leaseWaitMs, signal: o.graceful, leaseInterrupt: wake.signal });
        longPolled = r.longPolled;
        settling = r.settling;
      } finally {
        wake.dispose();
      }
    } catch (err) {
      if (!isAbortError(err) && !o.graceful.aborted)
        o.log.error({ err: describeError(err) }, 'factory pass failed; retrying after the poll interval');
    }
    if (!started) {
      started = true;
      o.onStarted?.();
    }
    // After the quick first pass the next one follows at once (and long-polls).
    if (!longPolled && !first)
      await o.waker.wait(settling > 0 ? Math.min(SETTLING_RECHECK_MS, o.pollIntervalMs) : o.pollIntervalMs, o.graceful);
  }
  if (!started) o.onStarted?.();

  const deadline = Date.now() + o.drainTimeoutMs;
  let left = factory.store.liveInstances().length;
  o.log.info({ live: left, drainTimeoutMs: o.drainTimeoutMs }, 'no longer leasing; draining live instances');
  while (left > 0 && Date.now() < deadline && !o.force.aborted) {
    try {
      await factory.tick({ lease: false, signal: o.force });
    } catch (err) {
      if (!isAbortError(err) && !o.force.aborted) o.log.error({ err: describeError(err) }, 'drain pass failed');
    }
    left = factory.store.liveInstances().length;
    const settlingNow = factory.store.liveInstances().some((i) => i.state === 'created');
    const pause = settlingNow ? Math.min(SETTLING_RECHECK_MS, o.pollIntervalMs) : o.pollIntervalMs;
    if (left > 0) await o.waker.wait(Math.min(pause, Math.max(0, deadline - Date.now())), o.force);
  }
  if (left > 0)
    o.log.warn(
      { live: left },
      'stopping with live instances; their agents keep running and the next start adopts them',
    );
  else o.log.info('drained');
  return { drained: left === 0, left };
}

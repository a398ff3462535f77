// The testbed upkeep steps of a pass (phase 2 of factory/tick.ts): reservations whose TTL lapsed
// are released, each SSH host is asked whether it can be used, and due health checks are started.
import { describeError, isAbortError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { abortError } from '../shared/sleep.js';
import type { FactoryConfig } from './config/types.js';
import type { Executor } from './executor/types.js';
import type { FactoryStore } from './store.js';
import type { TestbedOps } from './testbed-ops.js';

interface UpkeepDeps {
  config: FactoryConfig;
  store: FactoryStore;
  executorFor: (testbed: string) => Executor;
  log: Logger;
}

/** Releases every reservation whose TTL lapsed; returns how many. */
export function expireReservations(store: FactoryStore, log: Logger): number {
  const freed = store.reservations.expire();
  for (const testbed of freed) log.info({ testbed }, 'reservation lapsed (TTL); testbed released');
  return freed.length;
}

/** Asks each SSH host whether it can be used, so an unusable one is not offered work (paced by the executor). */
export async function checkHosts(d: UpkeepDeps, signal?: AbortSignal): Promise<void> {
  for (const tb of d.config.testbeds) {
    const ex = d.executorFor(tb.name);
    if (!ex.ready) continue;
    const row = d.store.testbed(tb.name);
    if (!row || !row.enabled || row.health === 'retired' || row.health === 'maintenance') continue;
    let reason: string | null = null;
    try {
      await ex.ready(signal);
    } catch (err) {
      if (isAbortError(err) || signal?.aborted) throw abortError(signal);
      reason = describeError(err);
    }
    if (reason !== row.unavailable) {
      d.store.health.setUnavailable(tb.name, reason);
      if (reason) d.log.warn({ testbed: tb.name, reason }, 'testbed unavailable: its host cannot be used');
      else d.log.info({ testbed: tb.name }, 'testbed available again');
    }
  }
}

/** Releases checks a crash interrupted, then starts the checks that are due; returns how many started. */
export function startDueChecks(d: UpkeepDeps, ops: TestbedOps): number {
  d.store.health.abandonChecks(ops.activeCheckIds());
  return ops.startChecks(d.store.health.dueForCheck(d.config.testbeds.map((t) => t.name)));
}

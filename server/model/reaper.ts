// Timeouts, checked on the safety tick: workers never bootstrapped are recycled, workers that
// stopped pinging are failed with their job, jobs over their maximum runtime fail. Lapsed leases
// are forgotten (and lease long-polls woken, since the job can be leased again).
import { and, eq, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { immediate } from '../../shared/db.js';
import { formatDuration } from '../../shared/duration.js';
import type { ServerContext } from '../context.js';
import { jobs, workers } from '../db/schema.js';
import { endJob, notifyJob } from './jobs.js';

export function reap(ctx: ServerContext): void {
  const now = ctx.now();
  const { bootstrapTimeoutMs, pingTimeoutMs, maxRuntimeMs } = ctx.cfg;
  const touchedJobs: string[] = [];
  const touchedWorkers: string[] = [];
  immediate(ctx.sqlite, () => {
    for (const id of ctx.heldPings.keys())
      ctx.db.update(workers).set({ lastPing: now }).where(eq(workers.id, id)).run();
    const live = and(eq(workers.deleted, false), eq(workers.recycle, false));
    for (const w of ctx.db
      .select()
      .from(workers)
      .where(and(live, isNull(workers.tokenHash), lt(workers.timeCreate, now - bootstrapTimeoutMs)))
      .all()) {
      ctx.db.update(workers).set({ recycle: true }).where(eq(workers.id, w.id)).run();
      ctx.log.warn({ worker: w.id }, `worker not bootstrapped within ${formatDuration(bootstrapTimeoutMs)}: recycled`);
      touchedWorkers.push(w.id);
    }
    for (const w of ctx.db
      .select()
      .from(workers)
      .where(and(live, isNotNull(workers.tokenHash), lt(workers.lastPing, now - pingTimeoutMs)))
      .all()) {
      ctx.db.update(workers).set({ recycle: true }).where(eq(workers.id, w.id)).run();
      ctx.log.warn({ worker: w.id, job: w.job }, `worker silent for ${formatDuration(pingTimeoutMs)}: recycled`);
      touchedWorkers.push(w.id);
      if (
        w.job &&
        endJob(ctx, w.job, {
          failed: true,
          reason: `worker ${w.id} stopped responding (no ping for ${formatDuration(pingTimeoutMs)}); job failed`,
        })
      ) {
        touchedJobs.push(w.job);
      }
    }
    // A safety net, as in buildomat: a running job whose worker is gone can never complete.
    const orphans = ctx.db
      .select({ id: jobs.id, worker: jobs.worker })
      .from(jobs)
      .innerJoin(workers, eq(workers.id, jobs.worker))
      .where(and(eq(jobs.complete, false), or(eq(workers.deleted, true), eq(workers.recycle, true))))
      .all();
    for (const j of orphans) {
      if (endJob(ctx, j.id, { failed: true, reason: `worker ${j.worker} failed without completing the job` }))
        touchedJobs.push(j.id);
    }
    for (const j of ctx.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.complete, false), isNotNull(jobs.worker), lt(jobs.timeAssigned, now - maxRuntimeMs)))
      .all()) {
      if (
        endJob(ctx, j.id, {
          failed: true,
          reason: `job exceeded its maximum runtime of ${formatDuration(maxRuntimeMs)}; job failed`,
        })
      ) {
        ctx.log.warn({ job: j.id, worker: j.worker }, 'job exceeded its maximum runtime');
        touchedJobs.push(j.id);
      }
    }
  });
  for (const j of touchedJobs) notifyJob(ctx, j);
  for (const w of touchedWorkers) ctx.bus.notify(`worker:${w}`);
  if (ctx.leases.sweep().length > 0) ctx.bus.notify('queue');
}

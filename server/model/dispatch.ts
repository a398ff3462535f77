// Assigning queued jobs to free workers. Called the moment something changes that may make an
// assignment possible (submit, input attached, associate, flush, bootstrap, ping), and by the
// safety tick. As in buildomat, a worker is free once bootstrapped (which needs it associated),
// not recycled and without a job; it is given a queued job of its target, the job its factory
// leased for it first, then the oldest. A worker created with wait_for_flush is assigned its job
// at once (so the factory's boot console output lands in the job) but its ping only shows the job
// after the flush.
import { and, asc, eq, isNotNull, isNull } from 'drizzle-orm';
import { immediate } from '../../shared/db.js';
import type { ServerContext } from '../context.js';
import { jobs, workers } from '../db/schema.js';
import { control } from './jobs.js';

export interface Assignment {
  job: string;
  worker: string;
}

export function assignQueued(ctx: ServerContext): Assignment[] {
  const made = immediate(ctx.sqlite, () => {
    const queued = ctx.db
      .select({ id: jobs.id, targetId: jobs.targetId })
      .from(jobs)
      .where(and(eq(jobs.complete, false), eq(jobs.waiting, false), isNull(jobs.worker)))
      .orderBy(asc(jobs.id))
      .all();
    if (queued.length === 0) return [];
    const free = ctx.db
      .select()
      .from(workers)
      .where(
        and(
          eq(workers.deleted, false),
          eq(workers.recycle, false),
          isNull(workers.job),
          isNotNull(workers.tokenHash),
          isNotNull(workers.private),
        ),
      )
      .orderBy(asc(workers.id))
      .all();
    if (free.length === 0) return [];
    const out: Assignment[] = [];
    const taken = new Set<string>();
    const assign = (jobId: string, w: (typeof free)[number]) => {
      const now = ctx.now();
      ctx.db.update(jobs).set({ worker: w.id, timeAssigned: now }).where(eq(jobs.id, jobId)).run();
      ctx.db.update(workers).set({ job: jobId }).where(eq(workers.id, w.id)).run();
      control(ctx, jobId, `job assigned to worker ${w.id}${w.private ? ` (${w.private})` : ''}`);
      taken.add(w.id);
      out.push({ job: jobId, worker: w.id });
    };
    const queuedIds = new Set(queued.map((j) => j.id));
    // First honour the lease a worker was created for, then oldest job to oldest worker.
    for (const w of free) {
      if (w.leaseJob && queuedIds.has(w.leaseJob)) {
        assign(w.leaseJob, w);
        queuedIds.delete(w.leaseJob);
      }
    }
    for (const j of queued) {
      if (!queuedIds.has(j.id)) continue;
      const w = free.find((x) => !taken.has(x.id) && x.target === j.targetId);
      if (!w) continue;
      assign(j.id, w);
      queuedIds.delete(j.id);
    }
    return out;
  });
  for (const a of made) {
    ctx.leases.drop(a.job);
    ctx.log.info({ job: a.job, worker: a.worker }, 'job assigned');
    ctx.bus.notify(`worker:${a.worker}`);
    ctx.bus.notify(`job:${a.job}`);
  }
  return made;
}

// Workers: created by a factory for a target, associated with the factory's own record, bootstrapped
// by their agent, then given one job. Single-use: recycled when the job ends.
import { and, eq } from 'drizzle-orm';
import { immediate } from '../../shared/db.js';
import { hashToken, newId, newToken, tokenMatches } from '../../shared/ids.js';
import type { FactoryMetadata, FactoryWorker, WorkerPingResult } from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { factories, jobs, workers } from '../db/schema.js';
import { badRequest, conflict, forbidden, unauthorized } from '../http/errors.js';
import { endJob, formatPingJob, getJob, notifyJob, type JobRow } from './jobs.js';
import { addEvents } from './events.js';
import type { FactoryRow, WorkerRow } from './principals.js';
import { findTarget } from './targets.js';

export function formatFactoryWorker(w: WorkerRow): FactoryWorker {
  return {
    id: w.id,
    private: w.private,
    recycle: w.recycle,
    bootstrap: w.bootstrap,
    online: w.tokenHash !== null,
    hold: w.hold,
    target: w.target,
  };
}

/** The factory's own worker, or 403 when it belongs to another factory; undefined when unknown. */
export function factoryWorker(ctx: ServerContext, f: FactoryRow, id: string): WorkerRow | undefined {
  const w = ctx.db.select().from(workers).where(eq(workers.id, id)).get();
  if (!w) return undefined;
  if (w.factory !== f.id) throw forbidden(`worker ${id} is not your worker`);
  return w;
}

export function createWorker(
  ctx: ServerContext,
  f: FactoryRow,
  body: { target: string; job?: string | null; wait_for_flush?: boolean },
): WorkerRow {
  const target = findTarget(ctx, body.target);
  const id = newId();
  ctx.db
    .insert(workers)
    .values({
      id,
      factory: f.id,
      target: target.id,
      bootstrap: newToken(48),
      leaseJob: body.job ?? null,
      waitForFlush: body.wait_for_flush ?? false,
      hold: f.holdWorkers,
      timeCreate: ctx.now(),
    })
    .run();
  ctx.log.info({ worker: id, factory: f.id, target: target.id, job: body.job }, 'worker created');
  return ctx.db.select().from(workers).where(eq(workers.id, id)).get()!;
}

export function associateWorker(
  ctx: ServerContext,
  w: WorkerRow,
  body: { private: string; ip?: string | null; metadata?: FactoryMetadata | null },
): void {
  if (w.deleted) throw conflict(`worker ${w.id} was deleted`);
  if (w.private !== null && w.private !== body.private) {
    throw unauthorized(`worker ${w.id} is already associated with ${JSON.stringify(w.private)}`);
  }
  ctx.db
    .update(workers)
    .set({ private: body.private, ip: body.ip ?? w.ip, metadata: body.metadata ?? w.metadata })
    .where(eq(workers.id, w.id))
    .run();
  ctx.dispatch();
}

export function flushWorker(ctx: ServerContext, w: WorkerRow): void {
  if (w.waitForFlush && !w.flushed) {
    ctx.db.update(workers).set({ flushed: true }).where(eq(workers.id, w.id)).run();
    ctx.bus.notify(`worker:${w.id}`);
    ctx.dispatch();
  }
}

/** Deletes a worker: its token dies; a job it still had fails. */
export function destroyWorker(ctx: ServerContext, w: WorkerRow): void {
  const job = immediate(ctx.sqlite, () => {
    ctx.db.update(workers).set({ deleted: true, recycle: true }).where(eq(workers.id, w.id)).run();
    if (w.job && endJob(ctx, w.job, { failed: true, reason: `worker ${w.id} was destroyed by its factory` }))
      return w.job;
    return undefined;
  });
  if (job) notifyJob(ctx, job);
  ctx.bus.notify(`worker:${w.id}`);
  ctx.log.info({ worker: w.id }, 'worker destroyed');
}

/** Console output from the factory: kept when the worker has a job; `retry` when it has none yet. */
export function factoryAppend(
  ctx: ServerContext,
  w: WorkerRow,
  ev: { stream: string; time: string; payload: string },
): boolean {
  const retry = immediate(ctx.sqlite, () => {
    const cur = ctx.db.select().from(workers).where(eq(workers.id, w.id)).get()!;
    if (cur.job) {
      const j = ctx.db.select({ complete: jobs.complete }).from(jobs).where(eq(jobs.id, cur.job)).get();
      if (j && !j.complete)
        addEvents(ctx, cur.job, [{ stream: ev.stream, payload: ev.payload, timeRemote: Date.parse(ev.time) }]);
      return false;
    }
    return !(cur.recycle || cur.deleted);
  });
  if (!retry && w.job) ctx.bus.notify(`job:${w.job}`);
  return retry;
}

export function bootstrapWorker(ctx: ServerContext, bootstrap: string, token: string): string {
  if (token.length < 32 || token.length > 512) throw badRequest('worker token must be 32 to 512 characters');
  const id = immediate(ctx.sqlite, () => {
    const w = ctx.db
      .select()
      .from(workers)
      .where(and(eq(workers.bootstrap, bootstrap), eq(workers.deleted, false)))
      .get();
    if (!w) throw unauthorized('bootstrap string not recognised (unknown or deleted worker)');
    if (w.private === null)
      throw unauthorized(`worker ${w.id} is not associated with its factory yet; try again shortly`);
    if (w.tokenHash !== null) {
      if (!tokenMatches(token, w.tokenHash))
        throw unauthorized(`worker ${w.id} already bootstrapped with another token`);
      return w.id;
    }
    if (w.recycle) throw unauthorized(`worker ${w.id} was recycled before it bootstrapped`);
    const now = ctx.now();
    ctx.db
      .update(workers)
      .set({ tokenHash: hashToken(token), timeBootstrap: now, lastPing: now })
      .where(eq(workers.id, w.id))
      .run();
    return w.id;
  });
  ctx.log.info({ worker: id }, 'worker bootstrapped');
  ctx.dispatch();
  return id;
}

export function pingResult(ctx: ServerContext, workerId: string): WorkerPingResult {
  const now = ctx.now();
  ctx.db.update(workers).set({ lastPing: now }).where(eq(workers.id, workerId)).run();
  const w = ctx.db.select().from(workers).where(eq(workers.id, workerId)).get()!;
  const f = ctx.db.select().from(factories).where(eq(factories.id, w.factory)).get();
  const j = w.job ? ctx.db.select().from(jobs).where(eq(jobs.id, w.job)).get() : undefined;
  // Until a wait_for_flush worker is flushed, the factory may still be adding its boot output.
  const held = w.waitForFlush && !w.flushed;
  return {
    poweroff: w.recycle || w.deleted,
    job: j && !j.complete && !held ? formatPingJob(ctx, j) : null,
    factory_info: f ? { id: f.id, name: f.name, private: w.private } : null,
    factory_metadata: (w.metadata as FactoryMetadata | null) ?? null,
  };
}

/** A job the calling worker names: 404 when unknown, 403 when assigned to another worker. */
export function workerJob(ctx: ServerContext, w: WorkerRow, jobId: string): JobRow {
  const j = getJob(ctx, jobId);
  if (j.worker !== w.id) throw forbidden(`job ${jobId} is not assigned to worker ${w.id}`);
  return j;
}

/** Like workerJob, and the job must still be running (409 once it ended). */
export function runningJob(ctx: ServerContext, w: WorkerRow, jobId: string): JobRow {
  const j = workerJob(ctx, w, jobId);
  if (j.complete) throw conflict(`job ${jobId} is already complete${j.cancelled ? ' (cancelled)' : ''}`);
  return j;
}

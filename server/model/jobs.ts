// Jobs and their tasks: creation, the views the API returns, and the ways a job ends (events: events.ts).
import { asc, eq, sql } from 'drizzle-orm';
import { immediate } from '../../shared/db.js';
import { newId } from '../../shared/ids.js';
import type { Job as ApiJob, JobSubmit, WorkerPingJob } from '../../shared/api/types.js';
import { iso, type ServerContext } from '../context.js';
import { inputs, jobs, targets, tasks, workers } from '../db/schema.js';
import { badRequest, forbidden, notFound } from '../http/errors.js';
import { checkInputName, checkTags, formatOutputRule, parseOutputRule } from './rules.js';
import { resolveTarget } from './targets.js';
import { addEvents } from './events.js';
import { checkJobLimits } from './job-limits.js';

export type JobRow = typeof jobs.$inferSelect;

export function jobState(j: JobRow): string {
  if (j.failed) return 'failed';
  if (j.complete) return 'completed';
  if (j.worker) return 'running';
  if (j.waiting) return 'waiting';
  return 'queued';
}

/** A job by id, prepared once per context: every append and every follower's page reads it. */
const jobById = new WeakMap<ServerContext, ReturnType<typeof prepareJobById>>();
function prepareJobById(ctx: ServerContext) {
  return ctx.db
    .select()
    .from(jobs)
    .where(eq(jobs.id, sql.placeholder('id')))
    .prepare();
}

export function getJob(ctx: ServerContext, id: string): JobRow {
  let q = jobById.get(ctx);
  if (!q) jobById.set(ctx, (q = prepareJobById(ctx)));
  const j = q.get({ id });
  if (!j) throw notFound(`job ${JSON.stringify(id)} not found`);
  return j;
}

export function jobForUser(
  ctx: ServerContext,
  user: { id: string; admin?: boolean; privileges?: string[] },
  id: string,
): JobRow {
  const j = getJob(ctx, id);
  // a user with the admin privilege reads any job, as it lists them all (GET /1/admin/jobs)
  if (j.owner !== user.id && !user.admin && !user.privileges?.includes('admin'))
    throw forbidden(`job ${id} is not your job`);
  return j;
}

export function createJob(ctx: ServerContext, owner: string, body: JobSubmit): string {
  if (body.tasks.length === 0) throw badRequest('a job needs at least one task');
  checkJobLimits(body);
  if (!body.name.trim()) throw badRequest('job name must not be empty');
  const tags = body.tags ?? {};
  checkTags(tags);
  const rules = body.output_rules.map(parseOutputRule);
  const inputNames = body.inputs ?? [];
  for (const n of inputNames) checkInputName(n);
  if (new Set(inputNames).size !== inputNames.length) throw badRequest('input names must be unique');
  if (body.depends && Object.keys(body.depends).length > 0) {
    throw badRequest('job dependencies ("depends") are not supported by this server', 'Unsupported');
  }
  const id = newId();
  const now = ctx.now();
  immediate(ctx.sqlite, () => {
    const target = resolveTarget(ctx, body.target);
    const waiting = inputNames.length > 0;
    ctx.db
      .insert(jobs)
      .values({
        id,
        owner,
        name: body.name,
        target: body.target,
        targetId: target.id,
        outputRules: rules,
        tags,
        inputNames,
        waiting,
        timeSubmit: now,
        timeReady: waiting ? null : now,
      })
      .run();
    body.tasks.forEach((t, seq) => {
      ctx.db
        .insert(tasks)
        .values({
          job: id,
          seq,
          name: t.name,
          script: t.script,
          envClear: t.env_clear,
          env: t.env,
          uid: t.uid ?? null,
          gid: t.gid ?? null,
          workdir: t.workdir ?? null,
        })
        .run();
    });
  });
  ctx.log.info({ job: id, owner, target: body.target }, 'job submitted');
  ctx.bus.notify('queue');
  ctx.dispatch();
  return id;
}

export function formatJob(ctx: ServerContext, j: JobRow): ApiJob {
  const ts = ctx.db.select().from(tasks).where(eq(tasks.job, j.id)).orderBy(asc(tasks.seq)).all();
  const target = ctx.db.select().from(targets).where(eq(targets.id, j.targetId)).get();
  const times: Record<string, string> = { submit: iso(j.timeSubmit) };
  if (j.timeReady) times.ready = iso(j.timeReady);
  if (j.timeAssigned) times.assigned = iso(j.timeAssigned);
  if (j.timeComplete) times.complete = iso(j.timeComplete);
  return {
    id: j.id,
    owner: j.owner,
    name: j.name,
    target: j.target,
    target_real: target?.name ?? j.targetId,
    output_rules: j.outputRules.map(formatOutputRule),
    tasks: ts.map((t) => ({
      name: t.name,
      script: t.script,
      env_clear: t.envClear,
      env: t.env,
      uid: t.uid,
      gid: t.gid,
      workdir: t.workdir,
      state: t.failed ? 'failed' : t.complete ? 'completed' : 'pending',
    })),
    state: jobState(j),
    tags: j.tags,
    cancelled: j.cancelled,
    times,
  };
}

/** The job as the worker's ping hands it over. */
export function formatPingJob(ctx: ServerContext, j: JobRow): WorkerPingJob {
  const ts = ctx.db.select().from(tasks).where(eq(tasks.job, j.id)).orderBy(asc(tasks.seq)).all();
  const ins = ctx.db.select().from(inputs).where(eq(inputs.job, j.id)).all();
  return {
    id: j.id,
    name: j.name,
    output_rules: j.outputRules,
    tasks: ts.map((t) => ({
      id: t.seq,
      name: t.name,
      script: t.script,
      env_clear: t.envClear,
      env: t.env,
      uid: t.uid ?? 0,
      gid: t.gid ?? 0,
      workdir: t.workdir ?? '/work',
    })),
    inputs: ins.map((i) => ({ id: i.id, name: i.name })),
  };
}

export function control(ctx: ServerContext, jobId: string, payload: string): void {
  addEvents(ctx, jobId, [{ stream: 'control', payload }]);
}

export interface JobEnd {
  failed: boolean;
  /** Control event written as the job ends (cancellation, timeouts, worker failures). */
  reason?: string;
  cancelled?: boolean;
}

/**
 * Ends a job (inside a transaction): marks it complete (and failed), recycles its worker, writes
 * the control event. A job that already ended is left as it is; returns whether this call ended it.
 */
export function endJob(ctx: ServerContext, jobId: string, end: JobEnd): boolean {
  const j = getJob(ctx, jobId);
  if (j.complete) return false;
  if (end.reason) control(ctx, jobId, end.reason);
  ctx.db
    .update(jobs)
    .set({
      complete: true,
      failed: end.failed || j.cancelled || !!end.cancelled,
      cancelled: j.cancelled || !!end.cancelled,
      timeComplete: ctx.now(),
    })
    .where(eq(jobs.id, jobId))
    .run();
  if (j.worker) ctx.db.update(workers).set({ recycle: true }).where(eq(workers.id, j.worker)).run();
  ctx.leases.drop(jobId);
  return true;
}

/** Wakes everyone following a job (and its worker) after a change was committed. */
export function notifyJob(ctx: ServerContext, jobId: string): void {
  ctx.bus.notify(`job:${jobId}`);
  const j = ctx.db.select({ worker: jobs.worker }).from(jobs).where(eq(jobs.id, jobId)).get();
  if (j?.worker) ctx.bus.notify(`worker:${j.worker}`);
}

/** User cancellation: a queued job fails at once; a running one fails and its worker is recycled. */
export function cancelJob(ctx: ServerContext, jobId: string): boolean {
  const ended = immediate(ctx.sqlite, () => {
    const j = getJob(ctx, jobId);
    if (j.complete) return false;
    ctx.db.update(jobs).set({ cancelled: true }).where(eq(jobs.id, jobId)).run();
    return endJob(ctx, jobId, { failed: true, cancelled: true, reason: 'job cancelled' });
  });
  notifyJob(ctx, jobId);
  return ended;
}

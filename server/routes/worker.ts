// Worker (agent) endpoints: bootstrap, ping, events, task and job completion, fatal failure.
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { immediate } from '../../shared/db.js';
import type {
  WorkerAppendJob,
  WorkerAppendJobOrTask,
  WorkerBootstrap,
  WorkerCompleteJob,
  WorkerCompleteTask,
  WorkerFail,
} from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { tasks, workers } from '../db/schema.js';
import { requireWorker } from '../http/auth.js';
import { badRequest, conflict, notFound } from '../http/errors.js';
import { idParam, waitMs } from '../http/params.js';
import { endJob, notifyJob } from '../model/jobs.js';
import { addEvents, isResentBatch, remoteTime, taskCount } from '../model/events.js';
import { checkStream } from '../model/rules.js';
import { bootstrapWorker, pingResult, runningJob, workerJob } from '../model/workers.js';
import { requestBody } from '../http/route-schemas.js';
import { clientGone } from '../../shared/client-gone.js';

export function workerRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: WorkerBootstrap }>(
    '/0/worker/bootstrap',
    { schema: requestBody('worker_bootstrap') },
    async (req, reply) => {
      const b = req.body;
      return reply.code(201).send({ id: bootstrapWorker(ctx, b.bootstrap, b.token) });
    },
  );

  // mvm addition: `wait_ms` holds the ping until the worker has a job or must power off.
  app.get('/0/worker/ping', async (req, reply) => {
    const w = requireWorker(ctx, req);
    const deadline = Date.now() + waitMs(req, ctx.cfg.maxWaitMs);
    const gone = clientGone(reply.raw);
    ctx.heldPings.set(w.id, (ctx.heldPings.get(w.id) ?? 0) + 1);
    try {
      ctx.dispatch();
      for (;;) {
        const r = pingResult(ctx, w.id);
        const left = deadline - Date.now();
        if (r.job || r.poweroff || left <= 0 || ctx.stopping.aborted || gone.aborted) return r;
        await ctx.bus.wait(`worker:${w.id}`, left, AbortSignal.any([ctx.stopping, gone]));
      }
    } finally {
      const n = (ctx.heldPings.get(w.id) ?? 1) - 1;
      if (n > 0) ctx.heldPings.set(w.id, n);
      else ctx.heldPings.delete(w.id);
    }
  });

  app.post<{ Body: WorkerAppendJobOrTask[] }>(
    '/1/worker/job/:job/append',
    { schema: requestBody('worker_job_append') },
    async (req, reply) => {
      const w = requireWorker(ctx, req);
      const id = idParam(req, 'job');
      const evs = req.body;
      if (evs.length > 1000) throw badRequest('too many events in one append: at most 1000');
      immediate(ctx.sqlite, () => {
        runningJob(ctx, w, id);
        const n = taskCount(ctx, id);
        evs.forEach((e, i) => {
          checkStream(e.stream, `event ${i}`);
          if (e.task !== undefined && e.task !== null && e.task >= n)
            throw badRequest(`event ${i}: task ${e.task} does not exist (job has ${n} tasks)`);
        });
        const batch = evs.map((e) => ({
          stream: e.stream,
          payload: e.payload,
          task: e.task ?? null,
          timeRemote: remoteTime(e.time),
        }));
        if (isResentBatch(ctx, id, batch)) {
          ctx.log.info(
            { job: id, worker: w.id, events: batch.length },
            'append resent after its first attempt was stored; not stored again',
          );
          return;
        }
        addEvents(ctx, id, batch);
      });
      ctx.bus.notify(`job:${id}`);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: WorkerAppendJob }>(
    '/0/worker/job/:job/task/:task/append',
    { schema: requestBody('worker_task_append') },
    async (req, reply) => {
      const w = requireWorker(ctx, req);
      const id = idParam(req, 'job');
      const task = taskParam(req.params as { task: string });
      const e = req.body;
      checkStream(e.stream, 'task append');
      immediate(ctx.sqlite, () => {
        runningJob(ctx, w, id);
        if (task >= taskCount(ctx, id)) throw notFound(`task ${task} not found in job ${id}`);
        const ev = { stream: e.stream, payload: e.payload, task, timeRemote: remoteTime(e.time) };
        if (!isResentBatch(ctx, id, [ev])) addEvents(ctx, id, [ev]);
      });
      ctx.bus.notify(`job:${id}`);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: WorkerCompleteTask }>(
    '/0/worker/job/:job/task/:task/complete',
    { schema: requestBody('worker_task_complete') },
    async (req, reply) => {
      const w = requireWorker(ctx, req);
      const id = idParam(req, 'job');
      const task = taskParam(req.params as { task: string });
      const { failed } = req.body;
      immediate(ctx.sqlite, () => {
        runningJob(ctx, w, id);
        const t = ctx.db
          .select()
          .from(tasks)
          .where(and(eq(tasks.job, id), eq(tasks.seq, task)))
          .get();
        if (!t) throw notFound(`task ${task} not found in job ${id}`);
        ctx.db
          .update(tasks)
          .set({ complete: true, failed })
          .where(and(eq(tasks.job, id), eq(tasks.seq, task)))
          .run();
      });
      ctx.bus.notify(`job:${id}`);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: WorkerCompleteJob }>(
    '/0/worker/job/:job/complete',
    { schema: requestBody('worker_job_complete') },
    async (req, reply) => {
      const w = requireWorker(ctx, req);
      const id = idParam(req, 'job');
      const { failed } = req.body;
      const j = workerJob(ctx, w, id);
      if (j.complete) return reply.code(204).send(); // a retried completion, or a cancelled job: nothing to do
      const pending = ctx.pendingCommits.get(id)?.size ?? 0;
      if (pending > 0) throw conflict(`job ${id} still has ${pending} output commit(s) being stored; retry shortly`);
      immediate(ctx.sqlite, () => endJob(ctx, id, { failed }));
      ctx.log.info({ job: id, worker: w.id, failed }, 'job completed');
      notifyJob(ctx, id);
      ctx.dispatch();
      return reply.code(204).send();
    },
  );

  app.post<{ Body: WorkerFail }>('/0/worker/fail', { schema: requestBody('worker_fail') }, async (req, reply) => {
    const w = requireWorker(ctx, req);
    const reason = req.body.reason ?? 'no reason given';
    const job = immediate(ctx.sqlite, () => {
      const cur = ctx.db.select().from(workers).where(eq(workers.id, w.id)).get()!;
      ctx.db.update(workers).set({ recycle: true }).where(eq(workers.id, w.id)).run();
      if (cur.job) endJob(ctx, cur.job, { failed: true, reason: `worker failed: ${reason.slice(0, 4000)}` });
      return cur.job;
    });
    ctx.log.warn({ worker: w.id, job, reason }, 'worker reported a fatal failure');
    if (job) notifyJob(ctx, job);
    ctx.bus.notify(`worker:${w.id}`);
    return reply.code(204).send();
  });
}

function taskParam(p: { task: string }): number {
  if (!/^\d{1,9}$/.test(p.task))
    throw notFound(`task ${JSON.stringify(p.task.slice(0, 40))} not found (tasks are numbered from 0)`);
  return Number(p.task);
}

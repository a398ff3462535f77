// User endpoints: submit, inspect, list, follow (events, long-poll, watch stream) and cancel jobs.
import type { FastifyInstance } from 'fastify';
import type { JobSubmit } from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { requireUser } from '../http/auth.js';
import { conflict } from '../http/errors.js';
import { idParam, queryInt, waitMs } from '../http/params.js';
import { cancelJob, createJob, formatJob, getJob, jobForUser } from '../model/jobs.js';
import { listEventsJson } from '../model/events.js';
import { listJobsPage } from './job-list.js';
import { watchJob } from './watch.js';
import { requestBody } from '../http/route-schemas.js';
import { clientGone } from '../../shared/client-gone.js';

export function userRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: JobSubmit }>('/0/jobs', { schema: requestBody('job_submit') }, async (req, reply) => {
    const u = requireUser(ctx, req);
    return reply.code(201).send({ id: createJob(ctx, u.id, req.body) });
  });

  app.get('/0/job/:job', async (req) => {
    const u = requireUser(ctx, req);
    return formatJob(ctx, jobForUser(ctx, u, idParam(req, 'job')));
  });

  app.get('/1/jobs', async (req) => {
    const u = requireUser(ctx, req);
    return listJobsPage(ctx, req, u.id);
  });

  // mvm addition: `wait_ms` holds the request until an event at or after `minseq` exists or the
  // job completes (or the time passes), so a follower needs no polling loop.
  app.get('/0/jobs/:job/events', async (req, reply) => {
    const u = requireUser(ctx, req);
    const id = idParam(req, 'job');
    const minseq = queryInt(req, 'minseq') ?? 0;
    const deadline = Date.now() + waitMs(req, ctx.cfg.maxWaitMs);
    jobForUser(ctx, u, id);
    const gone = clientGone(reply.raw);
    for (;;) {
      const page = listEventsJson(ctx, id, minseq);
      const left = deadline - Date.now();
      if (page.count > 0 || getJob(ctx, id).complete || left <= 0 || ctx.stopping.aborted || gone.aborted)
        return reply.type('application/json; charset=utf-8').send(page.json);
      await ctx.bus.wait(`job:${id}`, left, AbortSignal.any([ctx.stopping, gone]));
    }
  });

  app.get('/0/jobs/:job/watch', async (req, reply) => {
    const u = requireUser(ctx, req);
    const id = idParam(req, 'job');
    jobForUser(ctx, u, id);
    await watchJob(ctx, req, reply, id);
  });

  app.post('/0/jobs/:job/cancel', async (req, reply) => {
    const u = requireUser(ctx, req);
    const id = idParam(req, 'job');
    const j = jobForUser(ctx, u, id);
    if (j.complete)
      throw conflict(`job ${id} is already complete (${j.failed ? 'failed' : 'completed'}); nothing to cancel`);
    cancelJob(ctx, id);
    ctx.log.info({ job: id, user: u.id }, 'job cancelled');
    return reply.code(204).send();
  });

  app.get('/0/whoami', async (req) => {
    const u = requireUser(ctx, req);
    return { id: u.id, name: u.name };
  });

  app.get('/0/quota', async (req) => {
    requireUser(ctx, req);
    return { max_bytes_per_input: ctx.cfg.maxBytesPerInput };
  });
}

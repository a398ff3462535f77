// Worker file endpoints: output chunks and commits, the output quota, input downloads.
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { WorkerAddOutput } from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { inputs } from '../db/schema.js';
import { requireWorker } from '../http/auth.js';
import { notFound } from '../http/errors.js';
import { idParam } from '../http/params.js';
import { sendFile } from '../http/send-file.js';
import { commitOutput, storeChunk } from '../model/uploads.js';
import { runningJob, workerJob } from '../model/workers.js';
import { requestBody } from '../http/route-schemas.js';

export function workerFileRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/0/worker/job/:job/chunk', async (req, reply) => {
    const w = requireWorker(ctx, req);
    const j = runningJob(ctx, w, idParam(req, 'job'));
    return reply.code(201).send({ id: await storeChunk(ctx, j.id, req.body as Buffer) });
  });

  app.post<{ Body: WorkerAddOutput }>(
    '/1/worker/job/:job/output',
    { schema: requestBody('worker_job_add_output') },
    async (req) => {
      const w = requireWorker(ctx, req);
      const j = runningJob(ctx, w, idParam(req, 'job'));
      return commitOutput(ctx, j, req.body);
    },
  );

  app.get('/0/worker/job/:job/quota', async (req) => {
    const w = requireWorker(ctx, req);
    const id = idParam(req, 'job');
    workerJob(ctx, w, id);
    return { max_bytes_per_output: ctx.cfg.maxBytesPerOutput };
  });

  app.get('/0/worker/job/:job/inputs/:input', async (req, reply) => {
    const w = requireWorker(ctx, req);
    const id = idParam(req, 'job');
    workerJob(ctx, w, id);
    const iid = idParam(req, 'input');
    const i = ctx.db
      .select()
      .from(inputs)
      .where(and(eq(inputs.job, id), eq(inputs.id, iid)))
      .get();
    if (!i) throw notFound(`input ${iid} not found in job ${id}`);
    return sendFile(req, reply, ctx.files.path('inputs', id, i.id), await ctx.files.size('inputs', id, i.id));
  });
}

// User file endpoints: input chunks and attachment, output listing and download.
import { and, asc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { JobAddInput } from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { outputs } from '../db/schema.js';
import { requireUser } from '../http/auth.js';
import { conflict, notFound } from '../http/errors.js';
import { idParam } from '../http/params.js';
import { sendFile } from '../http/send-file.js';
import { jobForUser } from '../model/jobs.js';
import { attachInput, storeChunk } from '../model/uploads.js';
import { requestBody } from '../http/route-schemas.js';

export function userFileRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/0/jobs/:job/chunk', async (req, reply) => {
    const u = requireUser(ctx, req);
    const j = jobForUser(ctx, u, idParam(req, 'job'));
    if (!j.waiting || j.complete) throw conflict(`cannot upload chunks for job ${j.id}: it is not waiting for inputs`);
    return reply.code(201).send({ id: await storeChunk(ctx, j.id, req.body as Buffer, j.owner) });
  });

  app.post<{ Body: JobAddInput }>('/1/jobs/:job/input', { schema: requestBody('job_add_input') }, async (req) => {
    const u = requireUser(ctx, req);
    const j = jobForUser(ctx, u, idParam(req, 'job'));
    await attachInput(ctx, j, req.body);
    return { complete: true };
  });

  app.get('/0/jobs/:job/outputs', async (req) => {
    const u = requireUser(ctx, req);
    const j = jobForUser(ctx, u, idParam(req, 'job'));
    return ctx.db
      .select()
      .from(outputs)
      .where(eq(outputs.job, j.id))
      .orderBy(asc(outputs.id))
      .all()
      .map((o) => ({ id: o.id, path: o.path, size: o.size }));
  });

  app.get('/0/jobs/:job/outputs/:output', async (req, reply) => {
    const u = requireUser(ctx, req);
    const j = jobForUser(ctx, u, idParam(req, 'job'));
    const oid = idParam(req, 'output');
    const o = ctx.db
      .select()
      .from(outputs)
      .where(and(eq(outputs.job, j.id), eq(outputs.id, oid)))
      .get();
    if (!o) throw notFound(`output ${oid} not found in job ${j.id}`);
    return sendFile(req, reply, ctx.files.path('outputs', j.id, o.id), await ctx.files.size('outputs', j.id, o.id));
  });
}

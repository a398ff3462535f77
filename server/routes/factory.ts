// Factory endpoints: ping, leases on queued jobs, and the life of the factory's workers.
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { isUlid } from '../../shared/ids.js';
import type {
  FactoryLease,
  FactoryWhatsNext,
  FactoryWorkerAppend,
  FactoryWorkerAssociate,
  FactoryWorkerCreate,
} from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { factories, jobs, workers } from '../db/schema.js';
import { requireFactory } from '../http/auth.js';
import { badRequest, notFound } from '../http/errors.js';
import { idParam, waitMs } from '../http/params.js';
import type { FactoryRow } from '../model/principals.js';
import { checkStream } from '../model/rules.js';
import {
  associateWorker,
  createWorker,
  destroyWorker,
  factoryAppend,
  factoryWorker,
  flushWorker,
  formatFactoryWorker,
} from '../model/workers.js';
import { requestBody } from '../http/route-schemas.js';
import { clientGone } from '../../shared/client-gone.js';

function findLease(ctx: ServerContext, f: FactoryRow, targets: string[]): FactoryLease | null {
  if (ctx.hold || !f.enable || targets.length === 0) return null;
  const queued = ctx.db
    .select({ id: jobs.id, targetId: jobs.targetId })
    .from(jobs)
    .where(and(eq(jobs.complete, false), eq(jobs.waiting, false), isNull(jobs.worker), inArray(jobs.targetId, targets)))
    .orderBy(asc(jobs.id))
    .all();
  for (const j of queued) if (ctx.leases.take(j.id, f.id)) return { job: j.id, target: j.targetId };
  return null;
}

export function factoryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const ownWorker = (f: FactoryRow, id: string) => {
    const w = factoryWorker(ctx, f, id);
    if (!w) throw notFound(`worker ${id} not found`);
    return w;
  };

  app.get('/0/factory/ping', async (req) => {
    const f = requireFactory(ctx, req);
    ctx.db.update(factories).set({ lastPing: ctx.now() }).where(eq(factories.id, f.id)).run();
    return { ok: true };
  });

  // mvm addition: `wait_ms` holds the call until a job for one of the targets is queued.
  app.post<{ Body: FactoryWhatsNext }>(
    '/0/factory/lease',
    { schema: requestBody('factory_lease') },
    async (req, reply) => {
      const f = requireFactory(ctx, req);
      const targets = req.body.supported_targets;
      const bad = targets.find((t) => !isUlid(t));
      if (bad !== undefined)
        throw badRequest(
          `supported_targets: ${JSON.stringify(bad)} is not a target id (ULID); resolve target names with GET /0/admin/targets`,
        );
      ctx.db.update(factories).set({ lastPing: ctx.now() }).where(eq(factories.id, f.id)).run();
      const deadline = Date.now() + waitMs(req, ctx.cfg.maxWaitMs);
      const gone = clientGone(reply.raw);
      for (;;) {
        // A factory that gave up the call (woken by a freed testbed it leases again at once; or
        // stopping) must not be granted a lease it never sees: the job would wait for it to lapse.
        if (gone.aborted) return { lease: null };
        const cur = ctx.db.select().from(factories).where(eq(factories.id, f.id)).get() ?? f;
        const lease = findLease(ctx, cur, targets);
        const left = deadline - Date.now();
        if (lease) {
          ctx.log.info({ factory: f.id, job: lease.job }, 'lease granted');
          // Gone while the answer is written (the connection closes unsent): give the job back.
          reply.raw.once('close', () => {
            if (reply.raw.writableFinished) return;
            ctx.leases.drop(lease.job);
            ctx.log.info({ factory: f.id, job: lease.job }, 'lease dropped: the factory went before it was answered');
            ctx.bus.notify('queue');
          });
        }
        if (lease || left <= 0 || ctx.stopping.aborted) return { lease };
        await ctx.bus.wait('queue', left, AbortSignal.any([ctx.stopping, gone]));
      }
    },
  );

  app.post('/0/factory/lease/:job', async (req) => {
    const f = requireFactory(ctx, req);
    const id = idParam(req, 'job');
    const j = ctx.db.select().from(jobs).where(eq(jobs.id, id)).get();
    if (!j || j.complete || j.worker) return false;
    return ctx.leases.renew(id, f.id);
  });

  app.post<{ Body: FactoryWorkerCreate }>(
    '/0/factory/worker',
    { schema: requestBody('factory_worker_create') },
    async (req, reply) => {
      const f = requireFactory(ctx, req);
      const b = req.body;
      if (b.job && !isUlid(b.job)) throw badRequest(`job ${JSON.stringify(b.job)} is not a job id`);
      return reply.code(201).send(formatFactoryWorker(createWorker(ctx, f, b)));
    },
  );

  app.get('/0/factory/worker/:worker', async (req) => {
    const f = requireFactory(ctx, req);
    const id = (req.params as { worker: string }).worker;
    const w = isUlid(id) ? factoryWorker(ctx, f, id) : undefined;
    return { worker: w && !w.deleted ? formatFactoryWorker(w) : null };
  });

  app.get('/0/factory/workers', async (req) => {
    const f = requireFactory(ctx, req);
    return ctx.db
      .select()
      .from(workers)
      .where(and(eq(workers.factory, f.id), eq(workers.deleted, false)))
      .orderBy(asc(workers.id))
      .all()
      .map(formatFactoryWorker);
  });

  app.delete('/0/factory/worker/:worker', async (req) => {
    const f = requireFactory(ctx, req);
    const w = ownWorker(f, idParam(req, 'worker'));
    if (!w.deleted) destroyWorker(ctx, w);
    return true;
  });

  app.patch<{ Body: FactoryWorkerAssociate }>(
    '/0/factory/worker/:worker',
    { schema: requestBody('factory_worker_associate') },
    async (req, reply) => {
      const f = requireFactory(ctx, req);
      const w = ownWorker(f, idParam(req, 'worker'));
      associateWorker(ctx, w, req.body);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: FactoryWorkerAppend }>(
    '/0/factory/worker/:worker/append',
    { schema: requestBody('factory_worker_append') },
    async (req) => {
      const f = requireFactory(ctx, req);
      const w = ownWorker(f, idParam(req, 'worker'));
      const b = req.body;
      checkStream(b.stream, 'factory append');
      return { retry: factoryAppend(ctx, w, b) };
    },
  );

  app.post('/0/factory/worker/:worker/flush', async (req, reply) => {
    const f = requireFactory(ctx, req);
    flushWorker(ctx, ownWorker(f, idParam(req, 'worker')));
    return reply.code(204).send();
  });
}

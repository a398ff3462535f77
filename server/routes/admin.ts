// Admin endpoints: targets, factories, users, all jobs, and the dispatch hold switch.
import { and, asc, desc, eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FactoryCreate, FactoryEnable, TargetCreate, TargetRedirect, UserCreate } from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { factories, jobs, targets, users } from '../db/schema.js';
import { requireAdmin } from '../http/auth.js';
import { badRequest } from '../http/errors.js';
import { idParam, queryBool, queryInt, queryString } from '../http/params.js';
import { formatJob, getJob } from '../model/jobs.js';
import {
  createFactory,
  createUser,
  findFactory,
  findUser,
  formatFactory,
  formatUser,
  replaceUserToken,
} from '../model/principals.js';
import { createTarget, formatTarget, redirectTarget } from '../model/targets.js';
import { listJobsPage } from './job-list.js';
import { requestBody } from '../http/route-schemas.js';

const PRIVILEGE_RE = /^[A-Za-z0-9._:-]{1,64}$/;

/** GET /0/admin/jobs answers at most this many jobs (of each kind), and about this many bytes. */
const ADMIN_JOBS_MAX = 1000;
const ADMIN_JOBS_BYTES = 32 * 1024 * 1024;

export function adminRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post<{ Body: TargetCreate }>('/0/admin/target', { schema: requestBody('target_create') }, async (req, reply) => {
    requireAdmin(ctx, req);
    const b = req.body;
    return reply.code(201).send({ id: createTarget(ctx, b.name, b.desc) });
  });

  app.get('/0/admin/targets', async (req) => {
    requireAdmin(ctx, req);
    return ctx.db.select().from(targets).orderBy(asc(targets.name)).all().map(formatTarget);
  });

  app.put<{ Body: TargetRedirect }>(
    '/0/admin/targets/:target/redirect',
    { schema: requestBody('target_redirect') },
    async (req, reply) => {
      requireAdmin(ctx, req);
      redirectTarget(ctx, (req.params as { target: string }).target, req.body.redirect);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: FactoryCreate }>(
    '/0/admin/factory',
    { schema: requestBody('factory_create') },
    async (req, reply) => {
      requireAdmin(ctx, req);
      return reply.code(201).send(createFactory(ctx, req.body.name));
    },
  );

  app.get('/0/admin/factories', async (req) => {
    requireAdmin(ctx, req);
    return ctx.db.select().from(factories).orderBy(asc(factories.id)).all().map(formatFactory);
  });

  app.post<{ Body: FactoryEnable }>(
    '/0/admin/factory/:factory/enable',
    { schema: requestBody('factory_enable') },
    async (req, reply) => {
      requireAdmin(ctx, req);
      const f = findFactory(ctx, (req.params as { factory: string }).factory);
      const hold = req.body.hold_workers ?? false;
      ctx.db.update(factories).set({ enable: true, holdWorkers: hold }).where(eq(factories.id, f.id)).run();
      ctx.bus.notify('queue');
      return reply.code(204).send();
    },
  );

  app.post('/0/admin/factory/:factory/disable', async (req, reply) => {
    requireAdmin(ctx, req);
    const f = findFactory(ctx, (req.params as { factory: string }).factory);
    ctx.db.update(factories).set({ enable: false }).where(eq(factories.id, f.id)).run();
    return reply.code(204).send();
  });

  app.post<{ Body: UserCreate }>('/0/users', { schema: requestBody('user_create') }, async (req, reply) => {
    requireAdmin(ctx, req);
    return reply.code(201).send(createUser(ctx, req.body.name));
  });

  app.get('/0/users', async (req) => {
    requireAdmin(ctx, req);
    const name = queryString(req, 'name');
    const q = ctx.db.select().from(users);
    return (name ? q.where(eq(users.name, name)) : q).orderBy(asc(users.id)).all().map(formatUser);
  });

  app.get('/0/users/:user', async (req) => {
    requireAdmin(ctx, req);
    return formatUser(findUser(ctx, (req.params as { user: string }).user));
  });

  const privilege = (grant: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
    requireAdmin(ctx, req);
    const p = req.params as { user: string; privilege: string };
    const u = findUser(ctx, p.user);
    if (!PRIVILEGE_RE.test(p.privilege)) {
      throw badRequest(`privilege ${JSON.stringify(p.privilege)}: use 1 to 64 characters of [A-Za-z0-9._:-]`);
    }
    const set = new Set(u.privileges);
    if (grant) set.add(p.privilege);
    else set.delete(p.privilege);
    ctx.db
      .update(users)
      .set({ privileges: [...set].sort() })
      .where(eq(users.id, u.id))
      .run();
    return reply.code(204).send();
  };
  // mvm additions (doc/server.md): revoke a user's token, or replace it with a new one.
  app.delete('/0/users/:user/token', async (req, reply) => {
    requireAdmin(ctx, req);
    replaceUserToken(ctx, (req.params as { user: string }).user, false);
    return reply.code(204).send();
  });
  app.post('/0/users/:user/token', async (req, reply) => {
    requireAdmin(ctx, req);
    return reply.code(201).send(replaceUserToken(ctx, (req.params as { user: string }).user, true));
  });

  app.put('/0/users/:user/privilege/:privilege', privilege(true));
  app.delete('/0/users/:user/privilege/:privilege', privilege(false));

  app.get('/0/admin/jobs', async (req) => {
    requireAdmin(ctx, req);
    const active = queryBool(req, 'active');
    const completed = queryInt(req, 'completed', 0, ADMIN_JOBS_MAX);
    const out = [];
    if (active || completed === undefined) {
      const q = ctx.db.select().from(jobs);
      out.push(...(active ? q.where(eq(jobs.complete, false)) : q).orderBy(asc(jobs.id)).limit(ADMIN_JOBS_MAX).all());
    }
    if (completed !== undefined) {
      out.push(
        ...ctx.db
          .select()
          .from(jobs)
          .where(and(eq(jobs.complete, true)))
          .orderBy(desc(jobs.id))
          .limit(completed)
          .all()
          .reverse(),
      );
    }
    // An unpaged list: bounded in jobs and in bytes (GET /1/admin/jobs pages through everything).
    const page = [];
    let size = 0;
    for (const j of out) {
      const f = formatJob(ctx, j);
      size += JSON.stringify(f).length;
      if (size > ADMIN_JOBS_BYTES && page.length > 0) break;
      page.push(f);
    }
    return page;
  });

  app.get('/0/admin/jobs/:job', async (req) => {
    requireAdmin(ctx, req);
    return formatJob(ctx, getJob(ctx, idParam(req, 'job')));
  });

  app.get('/1/admin/jobs', async (req) => {
    requireAdmin(ctx, req);
    return listJobsPage(ctx, req, undefined);
  });

  app.post('/0/control/hold', async (req, reply) => {
    requireAdmin(ctx, req);
    ctx.hold = true;
    ctx.log.info('dispatch on hold: factories get no new leases');
    return reply.code(204).send();
  });

  app.post('/0/control/resume', async (req, reply) => {
    requireAdmin(ctx, req);
    ctx.hold = false;
    ctx.bus.notify('queue');
    return reply.code(204).send();
  });
}

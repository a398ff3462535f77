// The job server's per-route body schemas, in process: every route the spec gives a JSON body
// declares that operation's schema (a route without one is refused when the app is built), a body
// that breaks it is a 400 that says where, and a valid one reaches the handler typed.
import t from 'tap';
import Fastify from 'fastify';
import type { ServerContext } from '../../server/context.js';
import { HttpError } from '../../server/http/errors.js';
import { requestBody, useRouteSchemas } from '../../server/http/route-schemas.js';
import { strictValidator } from '../../server/http/validate.js';
import { adminRoutes } from '../../server/routes/admin.js';
import { factoryRoutes } from '../../server/routes/factory.js';
import { userRoutes } from '../../server/routes/user.js';
import { userFileRoutes } from '../../server/routes/user-files.js';
import { workerRoutes } from '../../server/routes/worker.js';
import { workerFileRoutes } from '../../server/routes/worker-files.js';

function app() {
  const a = Fastify();
  useRouteSchemas(a);
  a.setErrorHandler((err, _req, reply) => {
    const e = err as unknown as HttpError;
    void reply.code(e instanceof HttpError ? e.status : 500).send({ message: e.message });
  });
  return a;
}

t.test('every JSON-body route of the job server declares its operation schema', async (t) => {
  const a = app();
  const declared = new Map<string, unknown>();
  a.addHook('onRoute', (r) => {
    const body = (r.schema as { body?: unknown } | undefined)?.body;
    for (const m of [r.method].flat()) if (body) declared.set(`${m} ${r.url.replace(/:(\w+)/g, '{$1}')}`, body);
  });
  // Registering touches no context: handlers only use it when called.
  const ctx = {} as ServerContext;
  for (const routes of [adminRoutes, userRoutes, userFileRoutes, factoryRoutes, workerRoutes, workerFileRoutes])
    routes(a, ctx);
  await a.ready();
  const served = strictValidator().operations.filter(
    (o) => o.requestContentType === 'application/json' && declared.has(`${o.method} ${o.template}`),
  );
  t.ok(served.length >= 18, `${served.length} JSON-body operations served`);
  for (const o of served)
    t.same(
      declared.get(`${o.method} ${o.template}`),
      requestBody(o.operationId).body,
      `${o.operationId}: its own schema`,
    );
  await a.close();
});

t.test('a route the spec gives a JSON body cannot be registered without its schema', async (t) => {
  const a = app();
  t.throws(
    () => a.post('/0/jobs', async () => ({})),
    /POST \/0\/jobs: job_submit takes a JSON body; declare schema: requestBody\('job_submit'\)/,
  );
  t.throws(() => requestBody('job_upload_chunk'), /no operation job_upload_chunk with a JSON body/);
});

t.test('a body that breaks its schema is a located 400; a valid one arrives typed', async (t) => {
  const a = app();
  a.post<{ Body: { name: string } }>('/0/users', { schema: requestBody('user_create') }, async (req) => ({
    upper: req.body.name.toUpperCase(),
  }));
  const bad = await a.inject({ method: 'POST', url: '/0/users', payload: { name: 7, extra: true } });
  t.equal(bad.statusCode, 400);
  t.match(
    bad.json().message,
    /^invalid request body: \(body\) must NOT have additional properties \(extra\); \/name must be string$/,
  );
  const good = await a.inject({ method: 'POST', url: '/0/users', payload: { name: 'ada' } });
  t.same(good.json(), { upper: 'ADA' });
  await a.close();
});

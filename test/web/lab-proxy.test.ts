// fleet/web/lab-proxy.ts on its own (no browser): /api/lab and /api/jobs reach their upstream with
// the configured token, the path, query, body and the upstream's status pass through; a read-only
// caller may only read; a missing section is a 503 that names it, a dead upstream a 502; a wrong
// fleet token never reaches the upstream. And the fleet config's [jobs] section.
import t from 'tap';
import Fastify, { type FastifyRequest } from 'fastify';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labProxy, type WebPrincipal } from '../../fleet/web/lab-proxy.js';
import { checkFleetConfig } from '../../fleet/config/load.js';
import { tempDir } from '../helpers/tmp.js';

const WHO: Record<string, WebPrincipal> = {
  admin: { name: 'admin', admin: true, readOnly: false },
  viewer: { name: 'viewer', admin: false, readOnly: true },
};

function authenticate(req: FastifyRequest): WebPrincipal {
  const who = WHO[(req.headers.authorization ?? '').replace(/^Bearer /, '')];
  if (!who) throw Object.assign(new Error('invalid token'), { statusCode: 401 });
  return who;
}

t.test('the lab proxy', async (t) => {
  const seen: Array<{ method: string; url: string; auth: string | undefined; body: string; user: string | undefined }> =
    [];
  const upstream = Fastify();
  upstream.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, b, done) => done(null, b));
  upstream.all('/*', async (req, reply) => {
    seen.push({
      method: req.method,
      url: req.url,
      auth: req.headers.authorization,
      body: String(req.body ?? ''),
      user: req.headers['x-mvm-fleet-user'] as string | undefined,
    });
    if (req.url.startsWith('/v1/testbeds/busy'))
      return reply.code(409).send({ message: 'testbed busy is running job J', hint: 'wait' });
    return reply.code(req.method === 'POST' ? 201 : 200).send({ ok: true, url: req.url });
  });
  const up = await upstream.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => upstream.close());

  const app = Fastify();
  await app.register(labProxy, { authenticate, lab: { url: up, token: 'lab-secret' }, jobs: () => undefined });
  t.teardown(() => app.close());
  const call = (method: string, url: string, token = 'admin', body?: unknown) =>
    app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      payload: body ? JSON.stringify(body) : undefined,
    });

  const list = await call('GET', '/api/lab/v1/testbeds?free=true');
  t.equal(list.statusCode, 200);
  t.match(
    seen.at(-1),
    { method: 'GET', url: '/v1/testbeds?free=true', auth: 'Bearer lab-secret', user: 'admin' },
    'path, query and the lab token',
  );

  const reserve = await call('POST', '/api/lab/v1/testbeds/a/reservation', 'admin', { ttl: '1h', reason: 'bisect' });
  t.equal(reserve.statusCode, 201, "the upstream's status");
  t.same(JSON.parse(seen.at(-1)!.body), { ttl: '1h', reason: 'bisect' }, 'the body as sent');

  const refused = await call('POST', '/api/lab/v1/testbeds/busy/reservation', 'admin', {});
  t.equal(refused.statusCode, 409);
  t.match(refused.json(), { message: 'testbed busy is running job J' }, "the upstream's refusal text");

  const n = seen.length;
  const ro = await call('DELETE', '/api/lab/v1/testbeds/a/reservation', 'viewer');
  t.equal(ro.statusCode, 403);
  t.match(ro.json(), { message: /viewer is read-only/ });
  t.equal((await call('GET', '/api/lab/v1/testbeds', 'viewer')).statusCode, 200, 'a read-only token reads');
  t.equal((await call('GET', '/api/lab/v1/testbeds', 'nobody')).statusCode, 401, 'a wrong token is refused');
  t.equal(seen.length, n + 1, 'only the allowed read reached the upstream');

  const jobs = await call('GET', '/api/jobs/1/jobs');
  t.equal(jobs.statusCode, 503);
  t.match(jobs.json(), { message: /no \[jobs\] url/, hint: /\[jobs\] url and token/ });
  t.same((await call('GET', '/api/web/lab')).json(), { lab: true, jobs: false });

  const dead = Fastify();
  await dead.register(labProxy, { authenticate, lab: { url: 'http://127.0.0.1:1', token: 'x' } });
  t.teardown(() => dead.close());
  const r = await dead.inject({
    method: 'GET',
    url: '/api/lab/v1/testbeds',
    headers: { authorization: 'Bearer admin' },
  });
  t.equal(r.statusCode, 502);
  t.match(r.json(), { message: /the factory API at http:\/\/127\.0\.0\.1:1 did not answer/ });
});

t.test('the fleet config: [jobs] like [lab]', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'fleet.toml');
  writeFileSync(join(dir, 'jobs-token'), 'tok-from-file\n');
  writeFileSync(
    file,
    '[jobs]\nurl = "http://127.0.0.1:9300/"\ntoken_file = "jobs-token"\n\n[miner.a]\ndriver = "axeos"\naddress = "http://127.0.0.1:1"\n',
  );
  const ok = checkFleetConfig(file, { env: {} });
  t.same(ok.problems, []);
  t.same(ok.config?.jobs, { url: 'http://127.0.0.1:9300', token: 'tok-from-file' });
  writeFileSync(file, '[jobs]\nurl = "ftp://x"\n\n[miner.a]\ndriver = "axeos"\naddress = "http://127.0.0.1:1"\n');
  const bad = checkFleetConfig(file, { env: {} });
  t.match(bad.problems, [
    { key: 'jobs.url', message: /not an http\(s\) URL/, hint: /the job server/ },
    { key: 'jobs.token', message: 'missing', hint: /MVM_FLEET_JOBS_TOKEN/ },
  ]);
});

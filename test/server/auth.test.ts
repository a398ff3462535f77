// Token checks on every side: missing, wrong, malformed and wrong-kind tokens; other users' jobs,
// other factories' workers, other workers' jobs.
import t from 'tap';
import { request } from 'undici';
import type { ApiErrorBody } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

const responseViolations = (v: string[]) =>
  v.filter((x) => / response:|status \d+ (not in the spec|must have no body|content-type)/.test(x));

t.test('auth: 401 and 403 as buildomat answers them', async (t) => {
  const srv = await startServerInProcess(t);
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const target = await srv.createTarget('bitaxe');
  const alice = await srv.createUser('alice');
  const bob = await srv.createUser('bob');
  const fa = await srv.createFactory('lab-a');
  const fb = await srv.createFactory('lab-b');
  const job = await srv.submitJob(alice, { target: 'bitaxe' });
  const w = await startScriptedWorker(srv, srv.client(fa, proxy.url), target, proxy.url);
  t.equal((await w.ping(5000)).job?.id, job);
  const other = await startScriptedWorker(srv, srv.client(fa, proxy.url), target, proxy.url);

  async function call(method: string, path: string, auth: string | undefined, body?: unknown) {
    const headers: Record<string, string> = {};
    if (auth !== undefined) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await request(proxy.url + path, {
      method: method as 'GET',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.body.text();
    return { status: r.statusCode, body: (text ? JSON.parse(text) : undefined) as ApiErrorBody };
  }
  async function check(
    name: string,
    method: string,
    path: string,
    auth: string | undefined,
    status: number,
    message: RegExp,
    body?: unknown,
  ) {
    const r = await call(method, path, auth, body);
    t.equal(r.status, status, `${name}: ${status}`);
    t.match(r.body?.message, message, `${name}: ${message}`);
  }
  const bearer = (tok: string) => `Bearer ${tok}`;
  const endpoints: Array<[string, string, string, unknown?]> = [
    ['admin', 'GET', '/0/admin/targets'],
    ['user', 'GET', `/0/job/${job}`],
    ['factory', 'GET', '/0/factory/ping'],
    ['worker', 'GET', '/0/worker/ping'],
  ];
  for (const [side, method, path, body] of endpoints) {
    await check(`${side}: no token`, method, path, undefined, 401, /authentication required/, body);
    await check(`${side}: unknown token`, method, path, bearer('nope'.repeat(16)), 401, /invalid token/, body);
    await check(
      `${side}: malformed header`,
      method,
      path,
      `Token ${alice}`,
      401,
      /malformed Authorization header/,
      body,
    );
  }
  await check(
    'factory token on a user endpoint',
    'GET',
    `/0/job/${job}`,
    bearer(fa),
    401,
    /needs a user token; a factory token was given/,
  );
  await check(
    'worker token on a user endpoint',
    'GET',
    '/0/whoami',
    bearer(w.token),
    401,
    /needs a user token; a worker token was given/,
  );
  await check(
    'admin token on a user endpoint',
    'GET',
    '/0/whoami',
    bearer(srv.adminToken),
    401,
    /needs a user token; the admin token was given/,
  );
  await check(
    'user token on a factory endpoint',
    'POST',
    '/0/factory/lease',
    bearer(alice),
    401,
    /needs a factory token; a user token was given/,
    { supported_targets: [] },
  );
  await check('user token on a worker endpoint', 'GET', '/0/worker/ping', bearer(alice), 401, /needs a worker token/);
  await check(
    'factory token on an admin endpoint',
    'POST',
    '/0/admin/target',
    bearer(fa),
    401,
    /needs the admin token; a factory token was given/,
    { name: 'x', desc: '' },
  );
  await check(
    'plain user on an admin endpoint',
    'POST',
    '/0/users',
    bearer(alice),
    403,
    /user alice is not an administrator/,
    { name: 'eve' },
  );
  await check('another user’s job', 'GET', `/0/job/${job}`, bearer(bob), 403, /is not your job/);
  await check('another user’s events', 'GET', `/0/jobs/${job}/events`, bearer(bob), 403, /is not your job/);
  await check('another user’s cancel', 'POST', `/0/jobs/${job}/cancel`, bearer(bob), 403, /is not your job/);
  await check('another factory’s worker', 'GET', `/0/factory/worker/${w.id}`, bearer(fb), 403, /is not your worker/);
  await check('another factory’s delete', 'DELETE', `/0/factory/worker/${w.id}`, bearer(fb), 403, /is not your worker/);
  await check(
    'another worker’s job',
    'POST',
    `/0/worker/job/${job}/complete`,
    bearer(other.token),
    403,
    /is not assigned to worker/,
    { failed: false },
  );
  await check(
    're-associate with another private',
    'PATCH',
    `/0/factory/worker/${w.id}`,
    bearer(fa),
    401,
    /already associated/,
    { private: 'someone-else' },
  );
  await check(
    'bootstrap with an unknown string',
    'POST',
    '/0/worker/bootstrap',
    undefined,
    401,
    /bootstrap string not recognised/,
    { bootstrap: 'x', token: 'y'.repeat(64) },
  );

  // The admin privilege lets a user administer; whoami names the user.
  await srv.admin.put(`/0/users/bob/privilege/admin`);
  const r = await call('POST', '/0/admin/target', bearer(bob), { name: 'nano3', desc: 'Avalon Nano 3' });
  t.equal(r.status, 201, 'a user with the admin privilege may administer');
  t.match((await call('GET', '/0/whoami', bearer(alice))).body, { name: 'alice' });
  t.same(responseViolations(proxy.violations), [], 'every answer conforms to the spec');
});

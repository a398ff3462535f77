// Tokens can be revoked: a job server user's token (revoked, or replaced by a new one) and a
// factory API user (removed) stop working at once, through the CLI; both lists show who is left;
// the factory API refuses to reserve a testbed for a user that does not exist.
import t from 'tap';
import { runMvm } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { factoryApi, startFactory, startLab } from '../factory/fixture.js';

t.test('job server: revoke and replace a user token; only the admin may', async (t) => {
  const srv = await startServer(t);
  const alice = await srv.createUser('alice');
  const bob = await srv.createUser('bob');
  const whoami = async (token: string) =>
    (await fetch(`${srv.url}/0/whoami`, { headers: { authorization: `Bearer ${token}` } })).status;
  const env = { MVM_URL: srv.url, MVM_ADMIN_TOKEN: srv.adminToken };
  t.equal(await whoami(alice), 200);

  const byUser = await fetch(`${srv.url}/0/users/alice/token`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${bob}` },
  });
  t.equal(byUser.status, 403, 'a user cannot revoke another');
  t.equal(await whoami(alice), 200);

  const rev = await runMvm(['admin', 'user', 'revoke', 'alice'], { env });
  t.equal(rev.code, 0, rev.stderr);
  t.match(rev.stdout, /revoked the token of user alice/);
  t.equal(await whoami(alice), 401, 'the revoked token no longer works');
  t.equal(await whoami(bob), 200, 'other users are unaffected');

  const fresh = await runMvm(['admin', 'user', 'token', 'bob', '--json'], { env });
  t.equal(fresh.code, 0, fresh.stderr);
  const token = (JSON.parse(fresh.stdout) as { token: string }).token;
  t.equal(await whoami(token), 200, 'the new token works');
  t.equal(await whoami(bob), 401, 'the replaced one does not');

  const list = await runMvm(['admin', 'user', 'list', '--json'], { env });
  t.same(
    (JSON.parse(list.stdout) as Array<{ name: string }>).map((u) => u.name).sort(),
    ['alice', 'bob'],
    'users are listed',
  );
  t.equal((await runMvm(['admin', 'user', 'revoke', 'nobody-here'], { env })).code, 1, 'an unknown user is an error');
});

t.test('factory API: remove a user; no reservation for a user that does not exist', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const f = await startFactory(lab);
  t.teardown(() => f.stop(5000));
  const api = await factoryApi(f, lab.dbFile);
  const env = { MVM_LAB_URL: api.url, MVM_LAB_TOKEN: api.adminToken };
  const made = await runMvm(['testbeds', 'user', 'create', 'carol', '--json'], { env });
  t.equal(made.code, 0, made.stderr);
  const carol = (JSON.parse(made.stdout) as { token: string }).token;
  t.equal((await api.call('GET', '/v1/whoami', { token: carol })).status, 200);

  const ghost = await api.call('POST', '/v1/testbeds/gamma-1/reservation', { body: { owner: 'ghost', ttl: '1h' } });
  t.equal(ghost.status, 404, 'no reservation for a user that does not exist');
  t.match(ghost.body, { message: /no API user "ghost" to reserve for/ });
  t.equal(
    (await api.call('POST', '/v1/testbeds/gamma-1/reservation', { body: { owner: 'carol', ttl: '1h' } })).status,
    201,
    'an existing user: reserved',
  );

  t.equal((await api.call('DELETE', '/v1/users/carol', { token: carol })).status, 403, 'a user cannot remove users');
  const rm = await runMvm(['testbeds', 'user', 'remove', 'carol'], { env });
  t.equal(rm.code, 0, rm.stderr);
  t.match(rm.stdout, /removed user carol; its token no longer works/);
  t.equal(
    (await api.call('GET', '/v1/whoami', { token: carol })).status,
    401,
    "the removed user's token no longer works",
  );
  const list = await runMvm(['testbeds', 'user', 'list', '--json'], { env });
  t.same(JSON.parse(list.stdout), [], 'the list no longer has carol');
  t.equal((await api.call('DELETE', '/v1/users/carol')).status, 404, 'removing twice: 404');
});

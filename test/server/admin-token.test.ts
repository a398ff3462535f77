// The admin token: made on first start and printed once (stored hashed), or given by
// MVM_ADMIN_TOKEN, which replaces the stored one. Spawns `mvm server` (what the command prints
// and reads from its environment is under test), so it is not in the unit tier.
import t from 'tap';
import { HttpClient } from '../../shared/http.js';
import { newToken } from '../../shared/ids.js';
import { startMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

t.test('admin token on first start, kept across restarts, replaced by MVM_ADMIN_TOKEN', async (t) => {
  const dir = tempDir(t, 'mvm-admin-');
  const start = async (adminToken: string) => {
    const p = startMvm(['server', '--data', dir, '--listen', '127.0.0.1:0'], { env: { MVM_ADMIN_TOKEN: adminToken } });
    t.teardown(() => p.stop(5000));
    const url = /listening on (\S+)/.exec(await p.waitForLine(/^mvm server listening on /))![1];
    return { p, url };
  };
  const targets = (url: string, token: string) =>
    new HttpClient({ baseUrl: url, token }).get<unknown[]>('/0/admin/targets');

  const first = await start('');
  const line = first.p.stdout.find((l) => l.startsWith('mvm server admin token'));
  t.ok(line, 'the new admin token is printed on stdout');
  const token = line!.split(': ')[1];
  t.match(token, /^[A-Za-z0-9]{64}$/);
  t.same(await targets(first.url, token), []);
  t.notOk(first.p.stderr.join('\n').includes(token), 'the token is not in the log');
  t.equal(await first.p.stop(), 0);

  const second = await start('');
  t.notOk(
    second.p.stdout.some((l) => l.includes('admin token')),
    'printed only once',
  );
  t.same(await targets(second.url, token), [], 'the stored token still works');
  await second.p.stop();

  const given = newToken();
  const third = await start(given);
  t.same(await targets(third.url, given), [], 'MVM_ADMIN_TOKEN works');
  await t.rejects(targets(third.url, token), { status: 401, message: /invalid token/ }, 'and replaces the old one');
});

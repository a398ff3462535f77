// `mvm demo`: starts the server with a demo target and user, writes a private profile, prints how
// to submit a job, stops cleanly, and reuses its state on the next start.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import t from 'tap';
import { HttpClient } from '../../shared/http.js';
import { startMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

t.test('mvm demo', async (t) => {
  const dir = tempDir(t, 'mvm-demo-');
  const start = async () => {
    const p = startMvm(['demo', '--data', dir, '--listen', '127.0.0.1:0']);
    t.teardown(() => p.stop(5000));
    const url = /listening on (\S+)/.exec(await p.waitForLine(/^mvm server listening on /))![1];
    await p.waitForLine(/press Ctrl-C to stop/);
    return { p, url };
  };
  const { p, url } = await start();
  const profileFile = join(dir, 'profile.toml');
  t.match(p.stdout.join('\n'), `MVM_PROFILE=${profileFile} npx mvm job run --target demo --script ${join(dir, 'hello.sh')} --wait`);
  t.equal(statSync(profileFile).mode & 0o777, 0o600, 'the profile is private');
  const profile = TOML.parse(readFileSync(profileFile, 'utf8')) as { url: string; token: string; admin_token: string };
  t.equal(profile.url, url);
  const user = new HttpClient({ baseUrl: url, token: profile.token });
  const id = (await user.post<{ id: string }>('/0/jobs', { name: 'hello', target: 'demo', output_rules: [], tasks: [{ name: 'hello', script: 'echo hi', env_clear: false, env: {} }] })).id;
  t.equal(await p.stop(), 0, 'Ctrl-C (SIGTERM) stops the demo cleanly');
  t.match(p.stdout.at(-1), /mvm demo: stopped/);

  const again = await start();
  const profile2 = TOML.parse(readFileSync(profileFile, 'utf8')) as { token: string; admin_token: string };
  t.equal(profile2.token, profile.token, 'the user token is kept');
  t.equal(profile2.admin_token, profile.admin_token, 'the admin token is kept');
  const job = await new HttpClient({ baseUrl: again.url, token: profile2.token }).get<{ id: string; state: string }>(`/0/job/${id}`);
  t.match(job, { id, state: 'queued' }, 'the job submitted before the restart is still there');
});

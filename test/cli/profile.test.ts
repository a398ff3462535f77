import t from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, MvmError } from '../../shared/errors.js';
import { loadProfile, profilePath, resolveConnection } from '../../cli/profile.js';
import { tempDir } from '../helpers/tmp.js';

function profile(dir: string, text: string, mode = 0o600): string {
  const file = join(dir, 'profile.toml');
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

t.test('profile location: MVM_PROFILE, else XDG_CONFIG_HOME, else ~/.config', async (t) => {
  t.same(profilePath({ MVM_PROFILE: '/p.toml' }, '/home/u'), { file: '/p.toml', explicit: true });
  t.same(profilePath({ XDG_CONFIG_HOME: '/cfg' }, '/home/u'), { file: '/cfg/mvm/profile.toml', explicit: false });
  t.same(profilePath({}, '/home/u'), { file: '/home/u/.config/mvm/profile.toml', explicit: false });
});

t.test('flags win over environment, environment over the profile', async (t) => {
  const dir = tempDir(t);
  const file = profile(dir, 'url = "http://127.0.0.1:1111"\ntoken = "ptoken"\nadmin_token = "padmin"\n');
  const env = { MVM_PROFILE: file };
  t.match(resolveConnection('user', {}, env), {
    url: 'http://127.0.0.1:1111',
    token: 'ptoken',
    tokenSource: `token in ${file}`,
  });
  t.match(resolveConnection('admin', {}, env), { token: 'padmin', kind: 'admin' });
  t.match(resolveConnection('user', {}, { ...env, MVM_URL: 'http://127.0.0.1:2222', MVM_TOKEN: 'etoken' }), {
    url: 'http://127.0.0.1:2222',
    token: 'etoken',
    tokenSource: 'MVM_TOKEN',
  });
  // The admin commands read MVM_ADMIN_TOKEN, never MVM_TOKEN.
  t.match(resolveConnection('admin', {}, { ...env, MVM_TOKEN: 'etoken' }), { token: 'padmin' });
  t.match(resolveConnection('admin', {}, { ...env, MVM_ADMIN_TOKEN: 'eadmin' }), { token: 'eadmin' });
  t.match(
    resolveConnection('user', { url: 'http://127.0.0.1:3333', token: 'ftoken' }, { ...env, MVM_TOKEN: 'etoken' }),
    { url: 'http://127.0.0.1:3333', token: 'ftoken', tokenSource: '--token' },
  );
});

t.test('a missing default profile is fine; a missing named one is an error', async (t) => {
  const dir = tempDir(t);
  t.match(resolveConnection('user', { url: 'http://127.0.0.1:1', token: 'x' }, {}, dir), { token: 'x' });
  t.equal(loadProfile(join(dir, 'nope.toml'), false), undefined);
  t.throws(() => loadProfile(join(dir, 'nope.toml'), true), {
    code: 'CONFIG_INVALID',
    message: /cannot read the profile/,
  });
});

t.test('missing URL or token: usage errors that say where to put them', async (t) => {
  const dir = tempDir(t);
  const err1 = t.throws(() => resolveConnection('user', {}, {}, dir)) as MvmError;
  t.equal(err1.code, 'USAGE');
  t.match(err1.message, /no job server URL/);
  t.match(err1.hint, /--url.*MVM_URL/);
  const err2 = t.throws(() => resolveConnection('admin', { url: 'http://127.0.0.1:1' }, {}, dir)) as MvmError;
  t.match(err2.message, /no admin token/);
  t.match(err2.hint, /MVM_ADMIN_TOKEN.*admin_token/);
  const err3 = t.throws(() => resolveConnection('user', { url: 'ftp://x', token: 'x' }, {}, dir)) as MvmError;
  t.match(err3.message, /not an http\(s\) URL/);
});

t.test('a world-readable profile holding a token is refused, with the chmod to run', async (t) => {
  const dir = tempDir(t);
  const file = profile(dir, 'url = "http://127.0.0.1:1"\ntoken = "secret-token"\n', 0o644);
  const err = t.throws(() => resolveConnection('user', {}, { MVM_PROFILE: file })) as MvmError;
  t.equal(err.code, 'CONFIG_INVALID');
  t.match(err.message, /every user on this machine can read it/);
  t.equal(err.hint, `run: chmod 600 ${file}`);
  t.notMatch(err.message + err.hint, /secret-token/, 'the token is never shown');
  // Without a token, a readable profile is fine.
  mkdirSync(join(dir, 'b'));
  const open = profile(join(dir, 'b'), 'url = "http://127.0.0.1:1"\n', 0o644);
  t.same(loadProfile(open, true), { url: 'http://127.0.0.1:1' });
});

t.test('profile problems are all reported, with file and key', async (t) => {
  const dir = tempDir(t);
  const file = profile(dir, 'url = "nope"\ntokn = "x"\nadmin_token = 5\n');
  const err = t.throws(() => loadProfile(file, true)) as ConfigError;
  t.ok(err instanceof ConfigError);
  t.same(err.problems.map((p) => p.key).sort(), ['admin_token', 'tokn', 'url']);
  t.match(err.message, new RegExp(`${file}: tokn: unknown key`));
  const bad = profile(dir, 'url = \n');
  t.throws(() => loadProfile(bad, true), { message: /not valid TOML/ });
});

t.test('named profiles: [profile.NAME] tables, checked like the top level, each self-contained', async (t) => {
  const dir = tempDir(t);
  const file = profile(
    dir,
    'url = "http://top:9300"\ntoken = "t0"\n[profile.lab2]\nurl = "http://lab2:9300"\ntoken = "t2"\n[profile.lab2.lab.room]\nurl = "http://room:9310"\ntoken = "r"\n',
  );
  t.same(loadProfile(file, true), { url: 'http://top:9300', token: 't0' }, 'no name: the top level');
  t.same(loadProfile(file, true, 'default'), { url: 'http://top:9300', token: 't0' });
  t.same(loadProfile(file, true, 'lab2'), {
    url: 'http://lab2:9300',
    token: 't2',
    labs: { room: { url: 'http://room:9310', token: 'r' } },
  });
  const c = resolveConnection('user', {}, { MVM_PROFILE: file, MVM_PROFILE_NAME: 'lab2' }, dir);
  t.same(c, { url: 'http://lab2:9300', token: 't2', tokenSource: `token in [profile.lab2] of ${file}`, kind: 'user' });
  t.throws(() => loadProfile(file, true, 'lab3'), { code: 'USAGE', message: /no profile named "lab3"/ });

  const bad = profile(dir, '[profile.x]\nurll = "http://x"\n[profile.y]\nurl = "nope"\n');
  const err = t.throws(() => loadProfile(bad, true, 'x')) as ConfigError;
  t.same(err.problems.map((p) => p.key).sort(), ['profile.x.urll', 'profile.y.url'], 'every section is checked');
  t.match(err.problems.find((p) => p.key === 'profile.x.urll')!.hint, /did you mean "url"\?/);
  // A token in any section makes a world-readable file refused.
  const open = profile(dir, '[profile.z]\ntoken = "secret"\n', 0o644);
  t.throws(() => loadProfile(open, true), { message: /every user on this machine can read it/ });
});

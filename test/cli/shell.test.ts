// Shell plumbing and the light client, as real processes against a real job server, factory (its
// API) and a fleet API: named profiles (--profile NAME), `mvm whoami`, `mvm status` (one screen of
// every lab of the profile and the fleet), `mvm testbeds user create` printing only the token, and
// `mvm job …` / `mvm testbeds …` loading no native module (nor undici) — checked by what the
// process actually loaded.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from '../../shared/paths.js';
import { NO_CLIENT_ENV } from '../helpers/client-env.js';
import { ADMIN_TOKEN, startFleetStub } from '../helpers/fleet-stub.js';
import { runMvm, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { factoryApi, startFactory, startLab, type Lab, type LabApi } from '../factory/fixture.js';

const RECORDER = join(import.meta.dirname, '..', 'helpers', 'record-loaded.mjs');

let lab: Lab;
let api: LabApi;
let dir: string;
let profile: string;

const base = (): Record<string, string | undefined> => ({ ...NO_CLIENT_ENV, MVM_PROFILE: profile, NO_COLOR: '1' });

t.before(async () => {
  lab = await startLab(t, {
    testbeds: [
      { name: 'gamma-1', targets: ['bitaxe'] },
      { name: 'gamma-2', targets: ['bitaxe'] },
    ],
  });
  const p = await startFactory(lab);
  t.teardown(() => p.stop());
  api = await factoryApi(p, lab.dbFile);
  dir = tempDir(t, 'mvm-shell-');
  profile = join(dir, 'profile.toml');
  // The top level points nowhere; [profile.lab2] is the real lab.
  writeFileSync(
    profile,
    [
      'url = "http://127.0.0.1:1"',
      'token = "nobody"',
      '',
      '[profile.lab2]',
      `url = "${lab.srv.url}"`,
      `token = "${lab.userToken}"`,
      `admin_token = "${lab.srv.adminToken}"`,
      `lab_url = "${api.url}"`,
      `lab_token = "${api.adminToken}"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
});

t.test('--profile NAME picks a [profile.NAME] table; a wrong name gets a did-you-mean', async (t) => {
  const top = await runMvm(['job', 'list'], { env: base() });
  t.equal(top.code, 3, 'the top level is the default profile, and it points nowhere (unreachable)');
  t.match(top.stderr, /cannot reach the job server at http:\/\/127\.0\.0\.1:1/);
  const named = await runMvm(['job', 'list', '--profile', 'lab2'], { env: base() });
  t.equal(named.code, 0, named.stderr);
  const byEnv = await runMvm(['job', 'list'], { env: { ...base(), MVM_PROFILE_NAME: 'lab2' } });
  t.equal(byEnv.code, 0, byEnv.stderr);
  const typo = await runMvm(['job', 'list', '--profile', 'lab3'], { env: base() });
  t.equal(typo.code, 2);
  t.match(typo.stderr, new RegExp(`no profile named "lab3" in ${profile.replace(/[.]/g, '\\.')}`));
  t.match(typo.stderr, /hint: did you mean "lab2"\? the profiles are: default, lab2/);
});

t.test('mvm whoami: the profile, and who each token is', async (t) => {
  const r = await runMvm(['whoami', '--profile', 'lab2', '--json'], { env: base() });
  t.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.same(j.profile, { name: 'lab2', file: profile });
  t.match(j.job_server, { configured: true, ok: true, url: lab.srv.url, who: 'user tester' });
  t.match(j.job_server.token_from, /token in \[profile\.lab2\] of /);
  t.match(j.admin, { ok: true, who: 'admin' });
  t.match(j.labs, [{ lab: 'default', ok: true, who: 'admin (admin)' }]);
  t.same(j.fleet, { configured: false });
  const typo = await runMvm(['testbeds', 'list', '--target', 'bitaxee', '--profile', 'lab2'], { env: base() });
  t.equal(typo.code, 0, typo.stderr);
  t.equal(typo.stdout, 'no testbed matches');
  t.match(
    typo.stderr,
    /warning: no testbed serves target "bitaxee"; did you mean "bitaxe"\? \(the targets are: bitaxe\)/,
  );
  const text = await runMvm(['whoami', '--profile', 'lab2'], { env: base() });
  t.match(text.stdout, /^profile\s+lab2\s+\S+profile\.toml$/m);
  t.match(text.stdout, /^job server\s+http:\S+\s+user tester {2}\(token from token in \[profile\.lab2\]/m);
  t.match(text.stdout, /^fleet\s+-\s+not configured: no fleet API URL given/m);
});

t.test('mvm status: job server, queue, the lab by state with its reservations and last pass, the fleet', async (t) => {
  await waitFor(
    async () => (await api.call('GET', '/v1/testbeds')).body.every((x: { state: string }) => x.state === 'free'),
    'testbeds free',
  );
  const fleet = await startFleetStub();
  t.teardown(() => fleet.close());
  const env = { ...base(), MVM_PROFILE_NAME: 'lab2', MVM_FLEET_URL: fleet.url, MVM_FLEET_TOKEN: ADMIN_TOKEN };

  // A person made with `mvm testbeds user create` (only the token on stdout) reserves gamma-2.
  const made = await runMvm(['testbeds', 'user', 'create', 'dana'], { env });
  t.equal(made.code, 0, made.stderr);
  t.match(made.stdout, /^[A-Za-z0-9]{64}$/, 'stdout is the token alone');
  t.match(made.stderr, /created user dana; its token follows and is shown only once/);
  const r = await runMvm(['testbeds', 'reserve', 'gamma-2', '--ttl', '30m', '--reason', 'fan test'], {
    env: { ...env, MVM_LAB_TOKEN: made.stdout },
  });
  t.equal(r.code, 0, r.stderr);

  const s = await runMvm(['status', '--json'], { env });
  t.equal(s.code, 0, s.stderr);
  const j = JSON.parse(s.stdout);
  t.match(j.job_server, { ok: true, url: lab.srv.url, queue: { scope: 'all users', queued: 0, running: 0 } });
  t.equal(j.labs.length, 1);
  t.match(j.labs[0], {
    lab: 'default',
    ok: true,
    testbeds: { total: 2, free: 1, reserved: 1 },
    reservations: [{ testbed: 'gamma-2', owner: 'dana', reason: 'fan test' }],
  });
  t.ok(Date.parse(j.labs[0].last_pass_at) > Date.now() - 120_000, 'the factory passed recently');
  t.match(j.fleet, { ok: true, miners: 3, online: 2, offline: 1 });

  const text = await runMvm(['status'], { env });
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, /^job server\s+http:\S+ {2}reachable/m);
  t.match(text.stdout, /^queue\s+0 queued, 0 waiting, 0 running \(all users\)/m);
  t.match(text.stdout, /^lab default\s+http:\S+ {2}last pass \d+s ago; 2 testbeds: 1 free, 1 reserved/m);
  t.match(text.stdout, /^\s+reserved gamma-2 by dana until \d\d:\d\d UTC \("fan test"\)/m);
  t.match(text.stdout, /^fleet\s+http:\S+ {2}2\/3 miners online, 1 offline; /m);

  // A service that does not answer: said, and the exit status says so too.
  const down = await runMvm(['status'], { env: { ...env, MVM_FLEET_URL: 'http://127.0.0.1:1' } });
  t.equal(down.code, 3, 'a service that does not answer: the infrastructure status');
  t.match(down.stdout, /^fleet\s+unreachable: cannot reach the fleet API at http:\/\/127\.0\.0\.1:1/m);
  t.match(down.stdout, /^lab default/m, 'the others are still shown');
});

t.test('the light client: job and testbeds commands load no native module and no undici', async (t) => {
  const job = await lab.submit('bitaxe', 'true', 'light');
  const commands = [
    ['job', 'show', job],
    ['job', 'list'],
    ['testbeds', 'list'],
    ['testbeds', 'show', 'gamma-1'],
  ];
  for (const [i, args] of commands.entries()) {
    const out = join(dir, `loaded-${i}.json`);
    const r = await runMvm(args, {
      env: { ...base(), MVM_PROFILE_NAME: 'lab2', MVM_TEST_LOADED: out, NODE_OPTIONS: `--import ${RECORDER}` },
    });
    t.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    const loaded = JSON.parse(readFileSync(out, 'utf8')) as { native: string[]; cjs: string[] };
    t.same(loaded.native, [], `${args.join(' ')}: no native addon opened`);
    const heavy = loaded.cjs.filter((f) => /node_modules\/(better-sqlite3|ssh2|cpu-features|undici|pino)\//.test(f));
    t.same(heavy, [], `${args.join(' ')}: none of better-sqlite3, ssh2, undici, pino`);
    t.ok(loaded.cjs.length > 0, 'the recorder saw the modules');
  }
  // A client-only install: three files, no node_modules.
  const only = join(dir, 'client-only');
  mkdirSync(join(only, 'bin'), { recursive: true });
  mkdirSync(join(only, 'dist', 'cli'), { recursive: true });
  copyFileSync(projectPath('package.json'), join(only, 'package.json'));
  copyFileSync(projectPath('bin', 'mvm.js'), join(only, 'bin', 'mvm.js'));
  copyFileSync(projectPath('dist', 'cli', 'mvm-client.js'), join(only, 'dist', 'cli', 'mvm-client.js'));
  const alone = spawnSync(process.execPath, [join(only, 'bin', 'mvm.js'), 'testbeds', 'list', '--json'], {
    env: { ...process.env, ...base(), MVM_PROFILE_NAME: 'lab2' },
    encoding: 'utf8',
  });
  t.equal(alone.status, 0, alone.stderr);
  t.same(
    JSON.parse(alone.stdout).map((x: { name: string }) => x.name),
    ['gamma-1', 'gamma-2'],
    'the client alone lists the testbeds (and read the profile)',
  );
  const daemon = spawnSync(process.execPath, [join(only, 'bin', 'mvm.js'), 'server'], { encoding: 'utf8' });
  t.equal(daemon.status, 2);
  t.match(daemon.stderr, /this is a client-only install: its commands are job, testbeds, admin, status, whoami/);

  // The recorder does see a native module when one is loaded: the factory's status reads SQLite.
  const out = join(dir, 'loaded-factory.json');
  const f = await runMvm(['factory', 'status', '--db', lab.dbFile, '--json'], {
    env: { ...base(), MVM_TEST_LOADED: out, NODE_OPTIONS: `--import ${RECORDER}` },
  });
  t.equal(f.code, 0, f.stderr);
  t.match(JSON.parse(readFileSync(out, 'utf8')).native, [/better_sqlite3\.node$/]);
});

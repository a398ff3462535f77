// The factory config: the seed's example passes unchanged, the example config passes, and each
// kind of mistake is reported with its file, key, message and hint — all of them in one run.
import t from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem } from '../../shared/errors.js';
import { projectPath } from '../../shared/paths.js';
import { defaultAgentCommand, loadConfig, parseConfig } from '../../factory/config/load.js';
import { runMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

// Verbatim from the SP-test factory's README: the config format mvm accepts unchanged.
const SEED = `[general]
baseurl = "http://buildomat-server:8000"

[factory]
token = "factory-api-token"

[testbed.grapefruit-7f495641]
sp_type = "grapefruit"
targets = ["01KAYPTX7HMFSPHN2PAAXRHESC"]  # Target ID (ULID)
sp_runner_path = "sp-runner"
sp_runner_config = "~/Oxide/ci/config.toml"
baseline = "v16"
enabled = true

[target.sp-grapefruit]
`;

const BASE = `[general]
baseurl = "http://127.0.0.1:9300"
[factory]
token = "t"
[target.bitaxe]
`;

function problems(text: string, file = '/etc/mvm/factory.toml', env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  try {
    parseConfig(text, file, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

t.test('the seed config passes --check unchanged', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'seed.toml');
  writeFileSync(file, SEED);
  const r = await runMvm(['factory', '-f', file, '--check', '--no-server']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /ok \(1 testbed, 1 device, 1 target\)/);
  const c = loadConfig(file, { env: {} });
  t.equal(c.token, 'factory-api-token');
  t.same(c.testbeds[0].targets, ['01KAYPTX7HMFSPHN2PAAXRHESC']);
  t.same(c.testbeds[0].devices, [
    {
      name: 'sp',
      driver: 'command',
      hardware: 'grapefruit',
      attributes: [],
      options: { path: 'sp-runner', config: join(homedir(), 'Oxide/ci/config.toml') },
    },
  ]);
  t.same(c.testbeds[0].agent, { mode: 'local' });
  t.equal(c.testbeds[0].baseline, 'v16');
  t.same(c.targets, [{ name: 'sp-grapefruit' }]);
});

t.test('config.example.toml passes --check', async (t) => {
  const r = await runMvm(['factory', '-f', projectPath('config.example.toml'), '--check', '--no-server']);
  t.equal(r.code, 0, r.stderr);
  const c = loadConfig(projectPath('config.example.toml'), { env: {} });
  t.same(
    c.testbeds.map((x) => x.name),
    ['bitaxe-gamma', 'bitaxe-supra', 'nano-3s', 'nmminer-1', 'grapefruit-sim'],
  );
  t.same(
    [...new Set(c.testbeds.flatMap((x) => x.devices.map((d) => d.driver)))],
    ['axeos', 'cgminer', 'nmminer', 'command'],
  );
  t.equal(c.pollIntervalMs, 7000);
  t.equal(c.instanceDeadlineMs, 6 * 3600 * 1000);
});

t.test('durations, paths and secrets are normalised', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'tok'), '  sekret\n');
  const c = parseConfig(
    `${BASE.replace('token = "t"', 'token_file = "tok"\npoll_interval = "1m30s"\nlease_wait = 2\nworkdir = "work"')}
[testbed.a]
targets = ["bitaxe"]
`,
    join(dir, 'f.toml'),
    { env: { MVM_ADMIN_TOKEN: 'adm' } },
  );
  t.equal(c.token, 'sekret');
  t.equal(c.adminToken, 'adm');
  t.equal(c.pollIntervalMs, 90_000);
  t.equal(c.leaseWaitMs, 2000);
  t.equal(c.workdir, join(dir, 'work'));
  t.equal(c.testbeds[0].enabled, true);
  t.same(c.agentCommand, defaultAgentCommand(), 'the default agent command');
  const fromEnv = parseConfig(
    `[general]\nbaseurl = "http://127.0.0.1:1"\n[testbed.a]\ntargets = ["01KAYPTX7HMFSPHN2PAAXRHESC"]\n`,
    '/x.toml',
    { env: { MVM_FACTORY_TOKEN: 'e' } },
  );
  t.equal(fromEnv.token, 'e', 'the token may come from MVM_FACTORY_TOKEN');
});

t.test('each kind of problem, with its key, message and hint', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'f.toml');
  const unreadable = join(dir, 'secret');
  writeFileSync(unreadable, 'x');
  chmodSync(unreadable, 0o000);
  const isRoot = process.getuid?.() === 0;

  const cases: Array<[string, string, Record<string, string | RegExp>]> = [
    [
      'unknown key with did-you-mean',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\nenabeld = true\n`,
      { key: 'testbed.a.enabeld', message: /unknown key/, hint: 'did you mean `enabled`?' },
    ],
    [
      'unknown top-level table',
      `${BASE}[testbeds.a]\ntargets = ["bitaxe"]\n[testbed.b]\ntargets = ["bitaxe"]\n`,
      { key: 'testbeds', hint: 'did you mean `testbed`?' },
    ],
    [
      'wrong type',
      `${BASE}[testbed.a]\ntargets = "bitaxe"\n`,
      { key: 'testbed.a.targets', message: /must be an array of strings, not a string/ },
    ],
    [
      'wrong type (boolean)',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\nenabled = "yes"\n`,
      { key: 'testbed.a.enabled', message: /must be true or false/ },
    ],
    [
      'undefined target',
      `${BASE}[testbed.a]\ntargets = ["bitaxee"]\n`,
      {
        key: 'testbed.a.targets',
        message: /names target "bitaxee", which is not defined/,
        hint: /did you mean "bitaxe"/,
      },
    ],
    [
      'duplicate device address',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\n[testbed.a.devices.x]\ndriver = "axeos"\naddress = "http://127.0.0.1:18601"\n[testbed.b]\ntargets = ["bitaxe"]\n[testbed.b.devices.y]\ndriver = "axeos"\naddress = "http://127.0.0.1:18601"\n`,
      { key: 'testbed.b.devices.y.address', message: /is also the address of testbed\.a\.devices\.x/ },
    ],
    [
      'bad duration',
      `${BASE.replace('token = "t"', 'token = "t"\nagent_online_timeout = "5 minutes"')}[testbed.a]\ntargets = ["bitaxe"]\n`,
      { key: 'factory.agent_online_timeout', message: /is not a duration: "5 minutes"/, hint: /"30s", "5m"/ },
    ],
    [
      'missing token file',
      `${BASE.replace('token = "t"', 'token_file = "nope"')}[testbed.a]\ntargets = ["bitaxe"]\n`,
      { key: 'factory.token_file', message: /cannot read the token file .*nope: no such file/ },
    ],
    [
      'unreadable key file',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\nagent = { mode = "ssh", host = "127.0.0.1", identity_file = "missing_key" }\n`,
      { key: 'testbed.a.agent.identity_file', message: /cannot read the SSH private key .*missing_key: no such file/ },
    ],
    [
      'relative lock_dir of an ssh testbed',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\nagent = { mode = "ssh", host = "127.0.0.1", lock_dir = "locks" }\n`,
      { key: 'testbed.a.agent.lock_dir', message: /"locks" is not an absolute path/, hint: /\/tmp\/mvm-testbed-locks/ },
    ],
    [
      'unknown driver',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\n[testbed.a.devices.x]\ndriver = "axos"\naddress = "http://127.0.0.1:1"\n`,
      { key: 'testbed.a.devices.x.driver', hint: 'did you mean "axeos"?' },
    ],
    [
      'bad address',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\n[testbed.a.devices.x]\ndriver = "cgminer"\naddress = "http://127.0.0.1:4028"\n`,
      { key: 'testbed.a.devices.x.address', message: /is not host:port/ },
    ],
    [
      'missing token',
      `[general]\nbaseurl = "http://127.0.0.1:1"\n[target.bitaxe]\n[testbed.a]\ntargets = ["bitaxe"]\n`,
      { key: 'factory.token', message: /missing/, hint: /MVM_FACTORY_TOKEN/ },
    ],
    [
      'bad baseurl',
      BASE.replace('http://127.0.0.1:9300', '127.0.0.1:9300') + '[testbed.a]\ntargets = ["bitaxe"]\n',
      { key: 'general.baseurl', message: /is not an http\(s\) URL/ },
    ],
    [
      'bad agent mode',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\nagent = { mode = "docker" }\n`,
      { key: 'testbed.a.agent.mode', message: /unknown agent mode "docker"/ },
    ],
    [
      'unknown baseline mode',
      `${BASE}[testbed.a]\ntargets = ["bitaxe"]\n[testbed.a.devices.x]\ndriver = "cgminer"\naddress = "127.0.0.1:4028"\nsettings = { mode = "hihg" }\n`,
      {
        key: 'testbed.a.devices.x.settings.mode',
        message: 'unknown mode "hihg"',
        hint: /did you mean "high"\? use one of: .*eco.*low, med, high/,
      },
    ],
    ['no testbeds', BASE, { key: 'testbed', message: /no testbeds are defined/ }],
    ['not TOML', '[general\nbaseurl = 1', { key: /line 1/, message: /not valid TOML/ }],
  ];
  if (!isRoot) {
    cases.push([
      'unreadable token file',
      `${BASE.replace('token = "t"', `token_file = "${unreadable}"`)}[testbed.a]\ntargets = ["bitaxe"]\n`,
      { key: 'factory.token_file', message: /permission denied/ },
    ]);
  }
  for (const [name, text, want] of cases) {
    const ps = problems(text, file);
    t.ok(ps.length > 0, `${name}: reported`);
    t.match(ps, [{ file, ...want }] as never, name);
  }
});

t.test('every problem is reported at once, and --check exits 1 printing them', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.toml');
  writeFileSync(
    file,
    `[general]\nbaseurl = "http://127.0.0.1:9300"\n[factory]\ntokn = "x"\npoll_interval = "soon"\n[target.bitaxe]\n[testbed.a]\ntargets = ["avalon"]\nenabled = 1\n`,
  );
  const ps = problems(readFileSync(file, 'utf8'), file);
  t.same(ps.map((p) => p.key).sort(), [
    'factory.poll_interval',
    'factory.token',
    'factory.tokn',
    'testbed.a.enabled',
    'testbed.a.targets',
  ]);
  const r = await runMvm(['factory', '-f', file, '--check'], { env: { MVM_FACTORY_TOKEN: undefined } });
  t.equal(r.code, 1);
  t.match(r.stderr, /mvm: error: 5 configuration problems:/);
  t.match(r.stderr, /bad\.toml: factory\.tokn: unknown key\n\s+hint: did you mean `token`\?/);
  t.match(r.stderr, /testbed\.a\.targets: names target "avalon", which is not defined/);
  const daemon = await runMvm(['factory', '-f', file, '-d', join(dir, 'db.sqlite3')], {
    env: { MVM_FACTORY_TOKEN: undefined },
  });
  t.equal(daemon.code, 1, 'the daemon refuses to start');
  t.match(daemon.stderr, /5 configuration problems/);
  const missing = await runMvm(['factory', '-f', join(dir, 'nope.toml'), '--check']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read the config file: no such file/);
});

t.test("a baseline mode is any of the runner's mode names: an Avalon's low|med|high too", async (t) => {
  const text = `${BASE}[testbed.a]\ntargets = ["bitaxe"]\n[testbed.a.devices.nano]\ndriver = "cgminer"\naddress = "127.0.0.1:4028"\nsettings = { mode = "Low" }\n[testbed.a.devices.gamma]\ndriver = "axeos"\naddress = "http://127.0.0.1:1"\nsettings = { mode = "eco" }\n`;
  t.same(problems(text), []);
  const devices = parseConfig(text, '/etc/mvm/factory.toml').testbeds[0].devices;
  t.same(Object.fromEntries(devices.map((d) => [d.name, d.settings?.mode])), { nano: 'low', gamma: 'eco' });
});

t.test('a testbed placed over ssh is read into its placement', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'id_ed25519'), 'key');
  writeFileSync(join(dir, 'known_hosts'), '');
  const file = join(dir, 'f.toml');
  writeFileSync(
    file,
    `${BASE}[testbed.remote]\ntargets = ["01KAYPTX7HMFSPHN2PAAXRHESC"]\nagent = { mode = "ssh", host = "127.0.0.1", port = 2222, user = "lab", identity_file = "id_ed25519", known_hosts = "known_hosts", remote_command = ["mvm", "agent", "run"], lock_dir = "/run/mvm-locks" }\n`,
  );
  const c = loadConfig(file, { env: {} });
  t.same(c.testbeds[0].agent, {
    mode: 'ssh',
    host: '127.0.0.1',
    port: 2222,
    user: 'lab',
    identityFile: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    remoteCommand: ['mvm', 'agent', 'run'],
    lockDir: '/run/mvm-locks',
  });
});

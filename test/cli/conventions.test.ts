// One CLI convention, as real `mvm` processes: durations need a unit ("5 what?"), --pool-url for pool
// URLs (the old --url still works, with a warning), NO_COLOR / FORCE_COLOR, --json on the checks and
// admin commands, completion, did-you-mean for a mistyped target; and the colour and table modules.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { colorEnabled, painter } from '../../shared/color.js';
import { parseDurationFlag } from '../../shared/duration.js';
import { formatEvent } from '../../cli/format.js';
import { table } from '../../cli/table.js';
import { NO_CLIENT_ENV } from '../helpers/client-env.js';
import { runMvm } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

// Nothing from the machine's own profile or environment.
const clean = (dir: string): Record<string, string | undefined> => ({
  ...NO_CLIENT_ENV,
  XDG_CONFIG_HOME: join(dir, 'config'),
  HOME: dir,
});

t.test('a duration without a unit is refused with "5 what?", before anything is contacted', async (t) => {
  const env = clean(tempDir(t, 'mvm-dur-'));
  const cases: Array<[string[], RegExp]> = [
    [
      ['testbeds', 'reserve', 'gamma', '--ttl', '5', '--lab-url', 'http://127.0.0.1:1', '--lab-token', 'x'],
      /--ttl 5: 5 what\?/,
    ],
    [['server', '--lease-timeout', '60', '--data', join(env.HOME!, 'srv')], /--lease-timeout 60: 60 what\?/],
    [
      ['runner', 'telemetry', '--interval', '5', '--driver', 'axeos', '--address', 'http://127.0.0.1:1'],
      /--interval 5: 5 what\?/,
    ],
    [
      ['runner', 'flash', '--image', 'x.bin', '--settle', '15', '--driver', 'axeos', '--address', 'http://127.0.0.1:1'],
      /--settle 15: 15 what\?/,
    ],
    [
      ['fleet', 'history', 'gamma', '--from', '24', '--fleet-url', 'http://127.0.0.1:1', '--fleet-token', 'x'],
      /--from 24: 24 what\?/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await runMvm(args, { env });
    t.equal(r.code, 2, `${args.slice(0, 2).join(' ')}: a usage error`);
    t.match(r.stderr, re);
    t.match(r.stderr, /hint: give a unit, e\.g\. \d+s, \d+m or \d+h/);
    t.notMatch(r.stderr, /ECONNREFUSED|cannot reach/, 'refused before any connection');
  }
  const env2 = await runMvm(['server', '--data', join(env.HOME!, 'srv')], { env: { ...env, MVM_SERVER_TICK: '2' } });
  t.equal(env2.code, 2);
  t.match(env2.stderr, /MVM_SERVER_TICK=2: 2 what\?/);
  t.equal(parseDurationFlag('ttl', '1h30m'), 5_400_000);
  t.throws(() => parseDurationFlag('ttl', 'soon'), /--ttl "soon" is not a duration/);
});

t.test('--pool-url for pools and --fleet-url for the fleet; the old --url still works, with a warning', async (t) => {
  const env = clean(tempDir(t, 'mvm-pool-'));
  const device = ['--driver', 'axeos', '--address', 'http://127.0.0.1:1', '--option', 'request_timeout_ms=500'];
  const args = ['runner', 'control', 'pools', 'set', '--user', 'w', ...device];
  const now = await runMvm([...args, '--pool-url', 'stratum+tcp://pool:3333'], { env });
  t.notMatch(now.stderr, /deprecated/);
  t.notMatch(now.stderr, /give at least one/, 'the pool URL was taken');
  const old = await runMvm([...args, '--url', 'stratum+tcp://pool:3333'], { env });
  t.match(old.stderr, /warning: --url for pool URLs is deprecated; write --pool-url/);
  t.notMatch(old.stderr, /give at least one/, 'the old spelling still names the pool');
  // --url is the job server's: the fleet's is --fleet-url, and its old --url still works, with a warning.
  const fleetNow = await runMvm(['fleet', 'miners', '--fleet-url', 'http://127.0.0.1:1', '--fleet-token', 'x'], {
    env,
  });
  t.equal(fleetNow.code, 3, 'unreachable: the infrastructure status');
  t.match(fleetNow.stderr, /cannot reach the fleet API at http:\/\/127\.0\.0\.1:1/);
  t.notMatch(fleetNow.stderr, /deprecated/);
  const fleetOld = await runMvm(['fleet', 'miners', '--url', 'http://127.0.0.1:1', '--token', 'x'], { env });
  t.match(
    fleetOld.stderr,
    /warning: --url and --token for the fleet API are deprecated; write --fleet-url and --fleet-token/,
  );
  t.match(fleetOld.stderr, /cannot reach the fleet API at http:\/\/127\.0\.0\.1:1/, 'the old spelling still works');
  const none = await runMvm(args, { env });
  t.equal(none.code, 2);
  t.match(none.stderr, /pools set: give at least one --pool-url URL --user USER/);
});

t.test('NO_COLOR and FORCE_COLOR decide colour for every command', async (t) => {
  t.equal(colorEnabled({ isTTY: true }, {}), true);
  t.equal(colorEnabled({ isTTY: false }, {}), false);
  t.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  t.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  t.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  t.equal(colorEnabled({ isTTY: true }, { FORCE_COLOR: '0' }), false);
  t.equal(colorEnabled({ isTTY: false }, { NO_COLOR: '1', FORCE_COLOR: '1' }), false, 'NO_COLOR wins');
  t.equal(painter(false).red('x'), 'x');
  t.equal(painter(true).red('x'), '\x1b[31mx\x1b[0m');
  // Only warnings and errors are coloured (an error log line here); a script's stderr is not.
  const line = JSON.stringify({ level: 50, time: 1, msg: 'boom' });
  const e = { seq: 0, stream: 'stderr', time: '2026-12-05T00:00:00Z', payload: line, task: 0 } as never;
  t.match(formatEvent(e, { color: true }), /\x1b\[31mERROR +boom/);
  t.equal(formatEvent(e, { color: false }), '00:00:00 stderr.0  ERROR boom');
  const plainStderr = { seq: 0, stream: 'stderr', time: '2026-12-05T00:00:00Z', payload: 'boom', task: 0 } as never;
  t.equal(formatEvent(plainStderr, { color: true }), '00:00:00 stderr.0  boom');

  // A real command: `mvm whoami` with nothing configured prints dimmed "not configured" rows.
  const env = clean(tempDir(t, 'mvm-color-'));
  const forced = await runMvm(['whoami'], { env: { ...env, FORCE_COLOR: '1' } });
  t.equal(forced.code, 0, forced.stderr);
  t.match(forced.stdout, /\x1b\[2mnot configured/);
  const plain = await runMvm(['whoami'], { env: { ...env, FORCE_COLOR: '1', NO_COLOR: '1' } });
  t.notMatch(plain.stdout, /\x1b\[/);
  const piped = await runMvm(['whoami'], { env });
  t.notMatch(piped.stdout, /\x1b\[/, 'no colour into a pipe');
});

t.test('one table renderer: widths by what a person sees', async (t) => {
  const red = painter(true).red;
  t.equal(
    table(
      ['A', 'BB'],
      [
        ['xyz', '1'],
        [red('q'), '22'],
      ],
    ),
    'A    BB\nxyz  1\n\x1b[31mq\x1b[0m    22',
  );
  t.equal(
    table(
      [],
      [
        ['key', 'v'],
        ['k', 'value'],
      ],
    ),
    'key  v\nk    value',
  );
});

t.test('--json on the config checks', async (t) => {
  const dir = tempDir(t, 'mvm-check-');
  const bad = join(dir, 'bad.toml');
  writeFileSync(
    bad,
    '[general]\nbaseurl = "http://127.0.0.1:1"\n[factory]\ntoken = "x"\n[testbed.a]\ntargets = ["t"]\nbogus = 1\n',
  );
  const r = await runMvm(['factory', '-f', bad, '--check', '--json'], { env: clean(dir) });
  t.equal(r.code, 1);
  const j = JSON.parse(r.stdout);
  t.equal(j.ok, false);
  t.ok(
    j.problems.some((p: { key: string }) => p.key === 'testbed.a.bogus'),
    'each problem with its key',
  );
  t.match(r.stderr, /configuration problem/, 'the person still reads the problems on stderr');

  const good = join(dir, 'fleet.toml');
  writeFileSync(good, '[miner.gamma]\ndriver = "axeos"\naddress = "http://127.0.0.1:1"\n');
  const f = await runMvm(['fleet', '--config', good, '--check', '--json'], { env: clean(dir) });
  t.equal(f.code, 0, f.stderr);
  t.match(JSON.parse(f.stdout), { ok: true, miners: 1, testbed_miners: 0, lab: null });
});

t.test('a mistyped target: did you mean, with a hint a user token can follow; admin and gc --json', async (t) => {
  const srv = await startServer(t);
  const dir = tempDir(t, 'mvm-target-');
  await srv.createTarget('bitaxe');
  await srv.createTarget('nano3s');
  const user = await srv.createUser('dana');
  const env = { ...clean(dir), MVM_URL: srv.url, MVM_TOKEN: user, MVM_ADMIN_TOKEN: srv.adminToken };
  const script = join(dir, 'job.sh');
  writeFileSync(script, 'echo hi\n');
  const r = await runMvm(['job', 'run', '--target', 'bitaxee', '--script', script], { env });
  t.equal(r.code, 1);
  t.match(r.stderr, /no such target; did you mean "bitaxe"\? \(the targets are: bitaxe, nano3s\)/);
  t.match(r.stderr, /hint: check --target: give one of the names above/);

  const redirect = await runMvm(['admin', 'target', 'redirect', 'nano3s', '--to', 'bitaxe', '--json'], { env });
  t.equal(redirect.code, 0, redirect.stderr);
  t.match(JSON.parse(redirect.stdout), { name: 'nano3s', redirect: { name: 'bitaxe' } });
  await srv.createFactory('lab');
  const disable = await runMvm(['admin', 'factory', 'disable', 'lab', '--json'], { env });
  t.equal(disable.code, 0, disable.stderr);
  t.match(JSON.parse(disable.stdout), { enabled: false });

  const gc = await runMvm(['server', 'gc', '--data', srv.dataDir, '--json'], { env });
  t.equal(gc.code, 0, gc.stderr);
  t.match(JSON.parse(gc.stdout), { bytes: Number, chunks: Number, expired_jobs: Number, orphans: Number });
});

t.test('mvm completion prints a script, and completes commands', async (t) => {
  const env = clean(tempDir(t, 'mvm-compl-'));
  const script = await runMvm(['completion'], { env });
  t.equal(script.code, 0, script.stderr);
  t.match(script.stdout, /--get-yargs-completions/);
  const words = await runMvm(['--get-yargs-completions', 'mvm', 'testbeds', ''], { env });
  t.equal(words.code, 0, words.stderr);
  for (const w of ['list', 'reserve', 'release']) t.match(words.stdout, new RegExp(`^${w}`, 'm'));
  const top = await runMvm(['--get-yargs-completions', 'mvm', ''], { env });
  for (const w of ['job', 'testbeds', 'status', 'whoami']) t.match(top.stdout, new RegExp(`^${w}`, 'm'));
});

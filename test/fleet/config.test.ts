// The fleet config: a fleet-only file, the factory example config (its testbed devices become
// miners), a file with both; and every mistake reported at once with file, key and hint.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem } from '../../shared/errors.js';
import { projectPath } from '../../shared/paths.js';
import { loadConfig } from '../../factory/config/load.js';
import { checkFleetConfig, loadFleetConfig, parseFleetConfig } from '../../fleet/config/load.js';
import { FLEET_DEFAULTS } from '../../fleet/config/types.js';
import { tempDir } from '../helpers/tmp.js';

const HOME_FLEET = `
[fleet]
poll_interval = "5s"
listen = "127.0.0.1:9320"
udp_port = 12399
offline_after = 4
concurrency = 8
request_timeout = "2s"
retention = { raw = "24h", minute = "7d", hour = "365d" }

[miner.gamma]
driver = "axeos"
address = "http://192.168.1.50"
model = "Bitaxe Gamma"
expected_hashrate = 1200
location = "office"
tags = ["bitaxe", "office"]

[miner.nano]
driver = "cgminer"
address = "192.168.1.60:4028"
poll_interval = "30s"
options = { password = "admin" }

[miner.lotto]
driver = "nmminer"
address = "192.168.1.70"
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  return parseFleetConfig(text, '/etc/mvm/fleet.toml', { env }).problems;
}

t.test('a home fleet file is read and normalised', async (t) => {
  const r = parseFleetConfig(HOME_FLEET, '/etc/mvm/fleet.toml', { env: {} });
  t.same(r.problems, []);
  const c = r.config!;
  t.equal(c.kind, 'fleet');
  t.match(c.fleet, {
    pollIntervalMs: 5000,
    listen: { host: '127.0.0.1', port: 9320 },
    udpPort: 12399,
    udpAddress: '0.0.0.0',
    offlineAfter: 4,
    concurrency: 8,
    requestTimeoutMs: 2000,
  });
  t.same(c.fleet.retention, { rawMs: 86_400_000, minuteMs: 7 * 86_400_000, hourMs: 365 * 86_400_000 });
  t.same(
    c.miners.map((m) => m.id),
    ['gamma', 'lotto', 'nano'],
    'sorted by id',
  );
  t.match(c.miners[0], {
    driver: 'axeos',
    model: 'Bitaxe Gamma',
    expectedHashrateGhs: 1200,
    location: 'office',
    tags: ['bitaxe', 'office'],
    source: 'config',
  });
  t.match(c.miners[2], { pollIntervalMs: 30_000, options: { password: 'admin' } });
  t.equal(c.lab, undefined);
});

t.test('defaults', async (t) => {
  const c = parseFleetConfig('[miner.a]\ndriver = "axeos"\naddress = "http://10.0.0.1"\n', '/f.toml').config!;
  t.same(c.fleet, { ...FLEET_DEFAULTS, retention: FLEET_DEFAULTS.retention, metrics: 'open' });
  t.same(
    c.energy,
    { source: 'flat', flatPrice: 0, fetchIntervalMs: 1_800_000, backfillMs: 172_800_000 },
    'no [energy]: a flat 0 p/kWh',
  );
  t.equal(c.mqtt, undefined, 'no [mqtt]: export off');
  t.equal(c.miners[0].pollIntervalMs, undefined, "the miner's interval is [fleet] poll_interval unless set");
});

t.test('a factory config: every testbed device with an address is a miner', async (t) => {
  const r = checkFleetConfig(projectPath('config.example.toml'), { env: {} });
  t.same(r.problems, []);
  const c = r.config!;
  t.equal(c.kind, 'factory');
  const ids = c.miners.map((m) => m.id);
  t.ok(
    ids.includes('bitaxe-gamma.gamma') && ids.includes('nano-3s.nano') && ids.includes('nmminer-1.lotto'),
    ids.join(', '),
  );
  t.ok(
    c.miners.every((m) => m.source === 'testbed' && m.testbed !== undefined && m.driver !== 'command'),
    'testbed miners, no command devices',
  );
  t.match(
    c.miners.find((m) => m.id === 'bitaxe-gamma.gamma'),
    { testbed: 'bitaxe-gamma', tags: ['bitaxe-gamma'] },
  );
});

t.test('one file for both: the factory reads it too, and the fleet gets both kinds of miners', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'both.toml');
  writeFileSync(join(dir, 'lab-token'), 'lab-secret\n');
  const text =
    readFileSync(projectPath('config.example.toml'), 'utf8') +
    HOME_FLEET +
    '\n[lab]\nurl = "http://127.0.0.1:9310"\ntoken_file = "lab-token"\n';
  writeFileSync(file, text);
  const c = loadFleetConfig(file, { env: {} });
  t.equal(c.kind, 'both');
  t.same(c.lab, { url: 'http://127.0.0.1:9310', token: 'lab-secret' });
  t.ok(c.miners.some((m) => m.source === 'config') && c.miners.some((m) => m.source === 'testbed'));
  t.doesNotThrow(
    () => loadConfig(file, { env: { MVM_FACTORY_TOKEN: 'x' } }),
    'the factory accepts [fleet], [lab] and [miner.*]',
  );
});

t.test('every problem at once, each with its key and a hint', async (t) => {
  const bad = `
[fleet]
poll_interval = "soon"
udp_port = 70000
offline_after = 0
retension = {}
retention = { raw = "30d", minute = "1d" }
listen = "everywhere"

[lab]
url = "ftp://factory"

[miner.a]
driver = "axeoss"
address = "http://10.0.0.1"

[miner.b]
driver = "cgminer"
address = "no-port"
tags = "garage"
expected_hashrate = -1

[miner.c]
address = "http://10.0.0.1"
colour = "red"

[miner.d]
driver = "axeos"
address = "http://10.0.0.1"

[miner.e]
driver = "axeos"
address = "http://10.0.0.1/"

[minr.x]
`;
  const p = problems(bad);
  const keys = p.map((x) => x.key);
  for (const k of [
    'fleet.poll_interval',
    'fleet.udp_port',
    'fleet.offline_after',
    'fleet.retension',
    'fleet.retention.minute',
    'fleet.listen',
    'lab.url',
    'lab.token',
    'miner.a.driver',
    'miner.b.address',
    'miner.b.tags',
    'miner.b.expected_hashrate',
    'miner.c.driver',
    'miner.c.colour',
    'miner.e.address',
    'minr',
  ]) {
    t.ok(keys.includes(k), `reports ${k}`);
  }
  t.ok(p.every((x) => x.file === '/etc/mvm/fleet.toml' && x.message.length > 0));
  t.match(
    p.find((x) => x.key === 'miner.a.driver'),
    { hint: /did you mean "axeos"/ },
  );
  t.match(
    p.find((x) => x.key === 'fleet.retension'),
    { hint: /retention/ },
  );
  t.match(
    p.find((x) => x.key === 'miner.e.address'),
    { message: /also the address of d/ },
  );
  t.match(
    p.find((x) => x.key === 'lab.token'),
    { hint: /MVM_FLEET_LAB_TOKEN/ },
  );

  const dir = tempDir(t);
  const file = join(dir, 'bad.toml');
  writeFileSync(file, bad);
  t.throws(() => loadFleetConfig(file, { env: {} }), ConfigError);
  try {
    loadFleetConfig(file, { env: {} });
  } catch (err) {
    t.equal((err as ConfigError).problems.length, p.length, 'the error carries them all');
  }
  t.match(checkFleetConfig(join(dir, 'missing.toml')).problems, [{ key: '(file)', message: /no such file/ }]);
  t.match(problems('[miner.a\n'), [{ key: /line 1/, message: /not valid TOML/ }]);
  t.match(problems(''), [{ key: '(file)', message: /no miners and no testbeds/ }]);
  t.same(
    problems('[lab]\nurl = "http://f:9310"\n', { MVM_FLEET_LAB_TOKEN: 'tok' }),
    [],
    'the lab token from the environment',
  );
});

t.test('several labs: [lab] is "default", each [lab.NAME] a factory of its own; problems located', async (t) => {
  const ok = parseFleetConfig(
    [
      '[lab]',
      'url = "http://room1:9310/"',
      'token = "t1"',
      '[lab.room2]',
      'url = "http://room2:9310"',
      '[lab.attic]',
      'url = "https://attic:9310"',
      'token = "t3"',
      '[miner.a]',
      'driver = "axeos"',
      'address = "http://10.0.0.1"',
    ].join('\n'),
    '/etc/mvm/fleet.toml',
    { env: { MVM_FLEET_LAB_ROOM2_TOKEN: 't2' } },
  );
  t.same(ok.problems, []);
  t.same(ok.config!.labs, [
    { name: 'default', url: 'http://room1:9310', token: 't1' },
    { name: 'attic', url: 'https://attic:9310', token: 't3' },
    { name: 'room2', url: 'http://room2:9310', token: 't2' },
  ]);
  t.same(ok.config!.lab, { url: 'http://room1:9310', token: 't1' }, '[lab] stays the lab it was');
  t.same(parseFleetConfig('[lab.x]\nurl = "http://x:1"\ntoken = "t"\n', '/f.toml', { env: {} }).config!.lab, undefined);

  const p = problems(
    [
      '[lab]',
      'url = "http://same:9310"',
      'token = "t"',
      '[lab.default]',
      'url = "http://other:9310"',
      'token = "t"',
      '[lab."bad@name"]',
      'url = "http://x:9310"',
      'token = "t"',
      '[lab.twin]',
      'url = "http://same:9310"',
      'token = "t"',
      '[lab.room2]',
      'url = "ftp://room2"',
      'tokn = "t"',
      '[miner.a]',
      'driver = "axeos"',
      'address = "http://10.0.0.1"',
    ].join('\n'),
  );
  const keys = p.map((x) => `${x.key}: ${x.message}`);
  t.match(keys, [
    /^lab\."bad@name": "bad@name" is not a valid lab name/,
    /^lab\.default: \[lab\] url and \[lab\.default\] are both set/,
    /^lab\.room2\.tokn: unknown key/,
    /^lab\.room2\.url: "ftp:\/\/room2" is not an http\(s\) URL/,
    /^lab\.room2\.token: missing/,
    /^lab\.twin\.url: "http:\/\/same:9310" is also the url of \[lab\]/,
  ]);
  t.equal(p.length, 6, 'every problem once');
  t.match(
    p.find((x) => x.key === 'lab.room2.token')!.hint,
    /MVM_FLEET_LAB_ROOM2_TOKEN/,
    'the hint names the lab’s own environment variable',
  );
});

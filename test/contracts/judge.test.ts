// The judge (shared/contracts/judge.ts): the schemas of the formats people write judge their
// shape — every problem at once, located by a dotted key, did-you-mean hints from the schema's own
// names, union branches picked by their discriminator, the value pruned of what was wrong — and it
// is never more lenient than a JSON Schema validator reading the published schema.
import t from 'tap';
import TOML from '@iarna/toml';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../factory/config/load.js';
import { FactoryConfigSchema } from '../../shared/contracts/factory-config.js';
import { Closed, Duration, OneOf } from '../../shared/contracts/formats.js';
import { judge, judged } from '../../shared/contracts/judge.js';
import { FACTORY_CONFIG } from '../../shared/contracts/judged/factory-config.js';
import { TEST_DEFINITION } from '../../shared/contracts/judged/test-definition.js';
import { PUBLISHED } from '../../shared/contracts/publish.js';
import { TestDefinitionSchema } from '../../shared/contracts/test-definition.js';
import { ConfigError } from '../../shared/errors.js';
import { projectPath } from '../../shared/paths.js';

const Pool = Closed({ url: Type.String({ minLength: 1 }), user: Type.String() }, 'a pool', ['url']);
const Bench = Closed(
  {
    driver: OneOf(['axeos', 'cgminer'], 'the driver', 'driver'),
    pools: Type.Array(Pool),
    poll: Duration('poll', {}, { min: 100, max: 60_000 }),
    enabled: Type.Boolean(),
    agent: judged(
      Type.Union([
        Closed({ mode: Type.Literal('local') }, 'local'),
        Closed({ mode: Type.Literal('ssh'), host: Type.String() }, 'ssh', ['mode', 'host']),
      ]),
      { what: 'agent mode' },
    ),
  },
  'a bench',
);

t.test('every problem at once, located, with did-you-mean from the schema', async (t) => {
  const v = judge(Bench, {
    drivr: 'axeos',
    driver: 'axos',
    pools: [{ url: 'stratum+tcp://a:1', user: 'u' }, { ur: 'x' }, 3],
    poll: '10ms',
    enabled: 'yes',
    agent: { mode: 'sssh' },
  });
  t.same(
    v.problems.map((p) => [p.key, p.message, p.hint]),
    [
      ['drivr', 'unknown key', 'did you mean `driver`?'],
      ['driver', 'unknown driver "axos"', 'did you mean "axeos"?'],
      ['pools[1].ur', 'unknown key', 'did you mean `url`?'],
      ['pools[1].url', 'missing', 'add `url = "…"`'],
      ['pools[2]', 'must be a table, not an integer', undefined],
      ['poll', 'is too short (10 ms); the minimum is 100 ms', undefined],
      ['enabled', 'must be true or false, not a string', 'write enabled = true or enabled = false (no quotes)'],
      ['agent.mode', 'unknown agent mode "sssh"', 'did you mean "ssh"? one of: local, ssh'],
    ],
  );
  // What was wrong is pruned; a list of tables keeps its good entries in their places.
  t.same(v.value, { pools: [{ url: 'stratum+tcp://a:1', user: 'u' }, {}, undefined] });
});

t.test('a discriminated union: no tag is the branch where it is optional', async (t) => {
  t.same(judge(Bench, { agent: {} }).problems, []);
  t.same(
    judge(Bench, { agent: { host: 'h' } }).problems.map((p) => p.key),
    ['agent.host'],
    "a local agent has no host (the ssh branch's key)",
  );
  t.same(
    judge(Bench, { agent: { mode: 'ssh' } }).problems.map((p) => `${p.key}: ${p.message}`),
    ['agent.host: missing'],
  );
});

t.test('YAML wording for test definitions; a nested error keeps its place', async (t) => {
  const v = judge(
    TestDefinitionSchema,
    { devices: [{ hardware: '601' }], checks: [{ type: 'hashrate', min_percent: 80, devices: [0, {}] }] },
    { syntax: 'yaml' },
  );
  t.same(
    v.problems.map((p) => p.key),
    ['checks[0].devices[1]'],
  );
  t.match(v.problems[0].message, /must be a string or an integer, not an object/);
});

t.test('the factory config: a nested key of a testbed device, located', async (t) => {
  const text = `[general]\nbaseurl = "http://127.0.0.1:1"\n[factory]\ntoken = "t"\n[target.bitaxe]\n[testbed.gamma]\ntargets = ["bitaxe"]\n[testbed.gamma.devices.x]\ndriver = "axeos"\naddress = "http://127.0.0.1:2"\npools = [{ url = "stratum+tcp://a:1", user = "u" }, { url = "http://a", usr = "u" }]\n`;
  const err = t.throws(() => parseConfig(text, '/f.toml', { env: {} })) as unknown as ConfigError;
  t.same(
    err.problems.map((p) => [p.key, p.message, p.hint]),
    [
      [
        'testbed.gamma.devices.x.pools[1].url',
        '"http://a" is not a stratum URL',
        'write url = "stratum+tcp://host:port"',
      ],
      ['testbed.gamma.devices.x.pools[1].usr', 'unknown key', 'did you mean `user`?'],
      ['testbed.gamma.devices.x.pools[1].user', 'missing', 'add `user = "…"`'],
    ],
  );
  t.ok(err.problems.every((p) => p.file === '/f.toml'));
});

t.test('TOML dates and other types are named in the message', async (t) => {
  const raw = TOML.parse('[factory]\npoll_interval = 2024-01-01\nagent_start_attempts = 1.5\nworkdir = 3\n');
  const v = judge(FactoryConfigSchema, raw);
  t.same(
    v.problems.map((p) => `${p.key}: ${p.message}`),
    [
      'factory.poll_interval: is not a duration: "2024-01-01"',
      'factory.agent_start_attempts: must be an integer from 1 to 100, not 1.5',
      'factory.workdir: must be a string, not an integer',
      'general: missing',
    ],
  );
});

const ajv = new Ajv({ allErrors: true, strict: false });
(addFormatsModule as unknown as (a: Ajv) => Ajv)(ajv);

t.test('the judge is never more lenient than the published schema', async (t) => {
  const config = ajv.compile(
    JSON.parse(readFileSync(projectPath('doc', 'schemas', 'factory-config.schema.json'), 'utf8')),
  );
  const spec = ajv.compile(
    JSON.parse(readFileSync(projectPath('doc', 'schemas', 'test-definition.schema.json'), 'utf8')),
  );
  const example = TOML.parse(readFileSync(projectPath('config.example.toml'), 'utf8')) as Record<string, unknown>;
  const hashrate = parseYaml(readFileSync(projectPath('examples', 'hashrate.yaml'), 'utf8')) as Record<string, unknown>;
  const configs: unknown[] = [
    example,
    { ...example, factory: { pol_interval: '5s' } },
    { ...example, health: { bad_after: 0 } },
    { ...example, testbed: { a: { targets: ['x'], agent: { mode: 'docker' } } } },
    { ...example, testbed: { a: { targets: ['x'], devices: { d: { driver: 'axeos', pools: [] } } } } },
    { ...example, api: { metrics: 'closed' } },
    { general: { baseurl: 'http://x' }, factory: { lease_wait: '2 minutes' } },
  ];
  const specs: unknown[] = [
    hashrate,
    { devices: [] },
    { devices: [{ hardware: '601' }], checks: [{ type: 'hashrate' }] },
    { devices: [{ hardware: '601' }], checks: [{ type: 'hashrate', min_percent: 90, windw: '1m' }] },
    { devices: [{ name: 'a b' }], env: { '1X': 'y' } },
    { devices: [{ hardware: '601' }], timeout: 'soon', script: [] },
  ];
  for (const [schema, validate, values] of [
    [FactoryConfigSchema, config, configs],
    [TestDefinitionSchema, spec, specs],
  ] as const) {
    for (const value of values) {
      const judgedOk = judge(schema, value).problems.length === 0;
      t.equal(judgedOk, validate(value), `${JSON.stringify(value).slice(0, 80)}: the judge and ajv agree`);
    }
  }
});

t.test('what is published is what judges', async (t) => {
  t.equal(PUBLISHED['factory-config.schema.json'], FactoryConfigSchema, 'the factory config');
  t.equal(PUBLISHED['test-definition.schema.json'], TestDefinitionSchema, 'test definitions');
  // The readers' plain-data copies (kept current by schemas.test.ts) judge as the schemas do.
  const typo = { general: { baseurl: 'http://x' }, factory: { pol_interval: '1s', stop_grace: 'soon' } };
  t.same(judge(FACTORY_CONFIG, typo), judge(FactoryConfigSchema, typo));
  const spec = { devices: [{ name: 'a b' }], checks: [{ type: 'hashrate', windw: '1m' }], poll: '1ms' };
  t.same(judge(TEST_DEFINITION, spec, { syntax: 'yaml' }), judge(TestDefinitionSchema, spec, { syntax: 'yaml' }));
  const published = JSON.parse(readFileSync(projectPath('doc', 'schemas', 'factory-config.schema.json'), 'utf8'));
  const names = Object.keys(published.properties.factory.properties);
  const err = t.throws(() =>
    parseConfig('[general]\nbaseurl = "http://127.0.0.1:1"\n[factory]\nagent_start_timout = "1m"\n', '/f.toml', {
      env: {},
    }),
  ) as unknown as ConfigError;
  const hint = err.problems.find((p) => p.key === 'factory.agent_start_timout')?.hint ?? '';
  const suggested = /`(.+)`/.exec(hint)?.[1];
  t.ok(suggested !== undefined && names.includes(suggested), `the hint (${hint}) names a key of the published schema`);
});

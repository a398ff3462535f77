// The published JSON Schemas (doc/schemas/): current with the TypeBox schemas that judge the
// files (run `npm run gen:schemas` after a change), accepting the shipped examples, rejecting
// shape errors. That the judge reads the very same schemas: test/contracts/judge.test.ts.
import t from 'tap';
import TOML from '@iarna/toml';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { JUDGED, judgedText, PUBLISHED, schemaText } from '../../shared/contracts/publish.js';
import { FLEET_DRIVER_WORDS, MINER_NAME_PATTERN, OCTOPUS_REGION_WORDS } from '../../shared/contracts/fleet-config.js';
import { FLEET_KEYS, FLEET_TOP_KEYS, LAB_KEYS, parseFleetConfig, RETENTION_KEYS } from '../../fleet/config/load.js';
import { MINER_KEYS } from '../../fleet/config/miners.js';
import {
  ENERGY_KEYS,
  ENERGY_SOURCES,
  OCTOPUS_KEYS,
  OCTOPUS_REGIONS,
  TOU_BAND_KEYS,
} from '../../fleet/energy/config.js';
import { MQTT_KEYS } from '../../fleet/export/mqtt-config.js';
import { FLEET_DRIVERS, MINER_ID } from '../../fleet/store/miners.js';
import { projectPath } from '../../shared/paths.js';

const ajv = new Ajv({ allErrors: true, strict: false });
(addFormatsModule as unknown as (a: Ajv) => Ajv)(ajv);
const published = (name: string) => JSON.parse(readFileSync(projectPath('doc', 'schemas', name), 'utf8'));

t.test('the published schemas are current', async (t) => {
  for (const [name, schema] of Object.entries(PUBLISHED))
    t.equal(
      readFileSync(projectPath('doc', 'schemas', name), 'utf8'),
      schemaText(schema),
      `doc/schemas/${name} is what \`npm run gen:schemas\` writes`,
    );
  // The readers judge by these (plain data, no TypeBox at run time): the same schemas.
  for (const [file, [name, source, schema]] of Object.entries(JUDGED))
    t.equal(
      readFileSync(projectPath('shared', 'contracts', 'judged', file), 'utf8'),
      judgedText(name, source, schema),
      `shared/contracts/judged/${file} is what \`npm run gen:schemas\` writes`,
    );
});

t.test('the shipped examples keep their schemas; shape errors are caught', async (t) => {
  const configSchema = ajv.compile(published('factory-config.schema.json'));
  const example = TOML.parse(readFileSync(projectPath('config.example.toml'), 'utf8'));
  t.ok(configSchema(example), `config.example.toml: ${ajv.errorsText(configSchema.errors)}`);
  t.notOk(configSchema({ ...example, factory: { ...(example.factory as object), pol_interval: '5s' } }), 'a typo');
  t.notOk(configSchema({ ...example, health: { bad_after: 0 } }), 'out of range');

  const specSchema = ajv.compile(published('test-definition.schema.json'));
  const spec = parseYaml(readFileSync(projectPath('examples', 'hashrate.yaml'), 'utf8'));
  t.ok(specSchema(spec), `examples/hashrate.yaml: ${ajv.errorsText(specSchema.errors)}`);
  t.notOk(specSchema({ devices: [{ hardware: '601' }], checks: [{ type: 'hashrate', min_percnt: 90 }] }), 'a typo');
  t.notOk(specSchema({ devices: [{ hardware: '601' }], timeout: 'soon' }), 'not a duration');
});

t.test('the fleet config schema: the shipped examples, a file that is both, shape errors', async (t) => {
  const schema = ajv.compile(published('fleet-config.schema.json'));
  const fleet = TOML.parse(readFileSync(projectPath('examples', 'fleet.toml'), 'utf8'));
  t.ok(schema(fleet), `examples/fleet.toml: ${ajv.errorsText(schema.errors)}`);
  const factory = TOML.parse(readFileSync(projectPath('config.example.toml'), 'utf8'));
  t.ok(schema(factory), `config.example.toml (its testbed devices are fleet miners): ${ajv.errorsText(schema.errors)}`);
  const both = {
    ...factory,
    ...fleet,
    lab: { url: 'http://127.0.0.1:9310', token: 'x', room2: { url: 'http://127.0.0.1:9311', token_file: 't' } },
    jobs: { url: 'http://127.0.0.1:9300', token: 'y' },
    energy: {
      source: 'octopus',
      octopus: { product: 'AGILE-24-10-01', region: 'C' },
      time_of_use: [{ from: '00:30', to: '04:30', price: 7.5 }],
    },
    mqtt: { url: 'mqtt://127.0.0.1:1883', discovery: true, qos: 1 },
  };
  t.ok(schema(both), `a fleet and factory config in one file: ${ajv.errorsText(schema.errors)}`);
  const bad: Array<[string, Record<string, unknown>]> = [
    ['a typo in [fleet]', { ...fleet, fleet: { pol_interval: '5s' } }],
    ['udp_port out of range', { ...fleet, fleet: { udp_port: 70000 } }],
    ['a miner without a driver', { miner: { x: { address: '10.0.0.1' } } }],
    ['an unknown driver', { miner: { x: { driver: 'axos', address: '10.0.0.1' } } }],
    ['a miner name with a space', { miner: { 'a b': { driver: 'axeos', address: 'http://10.0.0.1' } } }],
    ['a region that does not exist', { energy: { octopus: { product: 'P', region: 'I' } } }],
    ['a band at 25:00', { energy: { time_of_use: [{ from: '25:00', to: '04:30', price: 7.5 }] } }],
    ['a typo in [lab]', { lab: { url: 'http://127.0.0.1:9310', tokn: 'x' } }],
    ['a qos of 3', { mqtt: { url: 'mqtt://127.0.0.1:1883', qos: 3 } }],
    ['an unknown top-level table', { fleeet: {} }],
  ];
  for (const [what, config] of bad) {
    t.notOk(schema(config), `the schema refuses ${what}`);
    // The fleet's own readers judge the file: they refuse it too.
    const read = parseFleetConfig(TOML.stringify(config as TOML.JsonMap), '/x/fleet.toml', { env: {} });
    t.ok(read.problems.length > 0, `the fleet refuses ${what}`);
  }
  t.same(parseFleetConfig(readFileSync(projectPath('examples', 'fleet.toml'), 'utf8'), '/x/f.toml').problems, []);
});

t.test("the fleet config schema names the readers' keys, drivers, regions and miner names", async (t) => {
  const s = published('fleet-config.schema.json');
  const keys = (o: { properties: object }) => Object.keys(o.properties).sort();
  const sorted = (a: readonly string[]) => [...a].sort();
  const p = s.properties;
  t.same(keys(p.fleet), sorted(FLEET_KEYS), '[fleet]');
  t.same(keys(p.fleet.properties.retention), sorted(RETENTION_KEYS), '[fleet.retention]');
  t.same(keys(p.lab), sorted(LAB_KEYS), '[lab]');
  t.same(keys(p.lab.additionalProperties), sorted(LAB_KEYS), '[lab.NAME]');
  t.same(keys(p.jobs), sorted(LAB_KEYS), '[jobs]');
  const miner = Object.values(p.miner.patternProperties)[0] as { properties: object };
  t.same(keys(miner), sorted(MINER_KEYS), '[miner.NAME]');
  t.same(keys(p.energy), sorted(ENERGY_KEYS), '[energy]');
  t.same(keys(p.energy.properties.octopus), sorted(OCTOPUS_KEYS), '[energy.octopus]');
  t.same(keys(p.energy.properties.time_of_use.items), sorted(TOU_BAND_KEYS), '[[energy.time_of_use]]');
  t.same(keys(p.mqtt), sorted(MQTT_KEYS), '[mqtt]');
  t.same(sorted([...FLEET_DRIVER_WORDS]), sorted(FLEET_DRIVERS), 'miner drivers');
  t.same([...OCTOPUS_REGION_WORDS], [...OCTOPUS_REGIONS], 'Octopus regions');
  t.same(sorted([...ENERGY_SOURCES]), ['flat', 'octopus', 'tou'], 'price sources');
  t.equal(MINER_NAME_PATTERN, MINER_ID.source, 'miner names');
  t.same(Object.keys(p.miner.patternProperties), [MINER_ID.source]);
  // [fleet]'s own sections plus the factory's: one schema for a file that is both.
  t.same(
    keys(s),
    sorted([
      ...FLEET_TOP_KEYS,
      ...Object.keys(published('factory-config.schema.json').properties).filter(
        (k) => !(FLEET_TOP_KEYS as readonly string[]).includes(k),
      ),
    ]),
  );
});

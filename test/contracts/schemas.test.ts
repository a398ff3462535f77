// The published JSON Schemas (doc/schemas/): current with their TypeBox sources (run `npm run
// gen:schemas` after a change), accepting the shipped examples, rejecting what the validators
// reject by shape, and naming exactly the keys the hand-written validators know.
import t from 'tap';
import TOML from '@iarna/toml';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { TObject, TSchema } from '@sinclair/typebox';
import { FACTORY_KEYS, GENERAL_KEYS, TARGET_KEYS, TOP_KEYS } from '../../factory/config/load.js';
import { API_KEYS, HEALTH_KEYS } from '../../factory/config/sections.js';
import {
  DEVICE_KEYS,
  LOCAL_KEYS,
  POOL_KEYS,
  SETTINGS_KEYS,
  SSH_KEYS,
  TESTBED_KEYS,
} from '../../factory/config/testbeds.js';
import { KNOWN_CHECK, KNOWN_TOP, SPEC_DEVICE_KEYS } from '../../runner/device-tests/spec.js';
import * as config from '../../shared/contracts/factory-config.js';
import { PUBLISHED, schemaText } from '../../shared/contracts/publish.js';
import { CHECK_SCHEMAS, TestDefinitionSchema } from '../../shared/contracts/test-definition.js';
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

const keys = (s: TSchema) => Object.keys((s as TObject).properties).sort();
interface Same {
  same(found: unknown, wanted: unknown, message: string): unknown;
}
const same = (t: Same, schema: TSchema, list: Iterable<string>, what: string) =>
  t.same(keys(schema), [...list].sort(), `${what}: the schema and the validator know the same keys`);

t.test('the schemas name exactly the keys the validators know', async (t) => {
  same(t, config.FactoryConfigSchema, TOP_KEYS, 'top level');
  same(t, config.GeneralSchema, GENERAL_KEYS, '[general]');
  same(t, config.FactorySchema, FACTORY_KEYS, '[factory]');
  same(t, config.HealthSchema, HEALTH_KEYS, '[health]');
  same(t, config.ApiSchema, API_KEYS, '[api]');
  same(t, config.TargetSchema, TARGET_KEYS, '[target.NAME]');
  same(t, config.TestbedSchema, TESTBED_KEYS, '[testbed.NAME]');
  same(t, config.DeviceSchema, DEVICE_KEYS, 'devices');
  same(t, config.PoolSchema, POOL_KEYS, 'pools');
  same(t, config.SettingsSchema, SETTINGS_KEYS, 'settings');
  const [local, ssh] = (config.AgentSchema as unknown as { anyOf: TSchema[] }).anyOf;
  same(t, local, LOCAL_KEYS, 'agent (local)');
  same(t, ssh, SSH_KEYS, 'agent (ssh)');
  same(t, TestDefinitionSchema, KNOWN_TOP, 'test definition');
  const devices = (TestDefinitionSchema.properties as unknown as Record<string, { items: TSchema }>).devices.items;
  same(t, devices, SPEC_DEVICE_KEYS, 'test definition devices');
  for (const [type, schema] of Object.entries(CHECK_SCHEMAS))
    same(
      t,
      schema,
      ['type', 'name', 'device', 'devices', ...KNOWN_CHECK[type as keyof typeof KNOWN_CHECK]],
      `check ${type}`,
    );
});

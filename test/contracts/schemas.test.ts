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

// Publishes the JSON Schemas of the formats people write — the factory config and test
// definitions — into doc/schemas/, for editor completion (Taplo/Even Better TOML for the config,
// the YAML language server for test definitions). `npm run gen:schemas`; a test fails when the
// published files are not what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { projectPath } from '../paths.js';
import { FactoryConfigSchema } from './factory-config.js';
import { TestDefinitionSchema } from './test-definition.js';

export const PUBLISHED: Record<string, TSchema> = {
  'factory-config.schema.json': FactoryConfigSchema,
  'test-definition.schema.json': TestDefinitionSchema,
};

/** The file's text: draft-07 JSON (TypeBox's own markers dropped), two-space indented. */
export function schemaText(schema: TSchema): string {
  return JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...schema }, null, 2) + '\n';
}

export function publishSchemas(dir = projectPath('doc', 'schemas')): string[] {
  return Object.entries(PUBLISHED).map(([name, schema]) => {
    const file = join(dir, name);
    writeFileSync(file, schemaText(schema));
    return file;
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const file of publishSchemas()) process.stdout.write(`wrote ${file}\n`);
}

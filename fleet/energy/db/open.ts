// Opens `energy.sqlite` (prices and automation rules) in the fleet's data dir, migrations applied.
import { join } from 'node:path';
import { openDb, type OpenedDb } from '../../../shared/db.js';
import { projectPath } from '../../../shared/paths.js';
import * as schema from './schema.js';

export type EnergyDb = OpenedDb<typeof schema>;

export const ENERGY_DB_FILE = 'energy.sqlite';

/** `fileOrDir`: a data dir (the file is energy.sqlite in it), a .sqlite path, or ':memory:'. */
export function openEnergyDb(fileOrDir: string): EnergyDb {
  const file = fileOrDir === ':memory:' || fileOrDir.endsWith('.sqlite') ? fileOrDir : join(fileOrDir, ENERGY_DB_FILE);
  return openDb(file, schema, { migrationsFolder: projectPath('fleet', 'energy', 'migrations') });
}

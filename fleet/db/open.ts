// Opening the fleet database (`DATA/fleet.sqlite`): WAL, migrations applied (shared/db.ts).
import { join } from 'node:path';
import { openDb, type OpenedDb } from '../../shared/db.js';
import { projectPath } from '../../shared/paths.js';
import * as schema from './schema.js';

export type FleetSchema = typeof schema;
export type FleetDb = OpenedDb<FleetSchema>;

export const FLEET_DB_FILE = 'fleet.sqlite';

/** Opens (creating and migrating) the fleet database `file`, or `DIR/fleet.sqlite` given a data dir. */
export function openFleetDb(file: string): FleetDb {
  return openDb(file, schema, { migrationsFolder: projectPath('fleet', 'migrations') });
}

export function fleetDbPath(dataDir: string): string {
  return join(dataDir, FLEET_DB_FILE);
}

export { schema };

// Shared by the fleet tests: a fleet database in a temp dir with every store, and quiet settings.
import { join } from 'node:path';
import { silentLogger } from '../../shared/log.js';
import { FLEET_DEFAULTS, type FleetSettings } from '../../fleet/config/types.js';
import { openFleetDb, type FleetDb } from '../../fleet/db/open.js';
import { createFleetStores, type SqliteFleetStores, type StoreOptions } from '../../fleet/store/index.js';
import { tempDir } from '../helpers/tmp.js';

export function fleetDb(
  t: { teardown(fn: () => void): void },
  opts: StoreOptions = {},
): { db: FleetDb; stores: SqliteFleetStores; dir: string } {
  const dir = tempDir(t, 'mvm-fleet-');
  const db = openFleetDb(join(dir, 'fleet.sqlite'));
  t.teardown(() => db.close());
  return { db, stores: createFleetStores(db, { log: silentLogger(), ...opts }), dir };
}

export function settings(over: Partial<FleetSettings> = {}): FleetSettings {
  return { ...FLEET_DEFAULTS, retention: { ...FLEET_DEFAULTS.retention }, ...over };
}

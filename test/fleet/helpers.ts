// Shared by the fleet tests: a fleet database in a temp dir with every store, quiet settings, and
// a collector over the stores.
import { join } from 'node:path';
import { silentLogger } from '../../shared/log.js';
import { FLEET_DEFAULTS, type FleetSettings } from '../../fleet/config/types.js';
import { openFleetDb, type FleetDb } from '../../fleet/db/open.js';
import { createFleetStores, type SqliteFleetStores, type StoreOptions } from '../../fleet/store/index.js';
import { Collector, type CollectorOptions } from '../../fleet/collector/collector.js';
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

/** A started collector of the miners in `stores`, writing to them, with `over` settings; stopped with the test. */
export async function startCollector(
  t: { teardown(fn: () => void | Promise<void>): void },
  stores: SqliteFleetStores,
  over: Partial<FleetSettings>,
  opts: Partial<CollectorOptions> = {},
): Promise<Collector> {
  const collector = new Collector({
    definitions: () => stores.miners.definitions(),
    events: stores.events,
    history: stores.history,
    live: stores.live,
    settings: settings(over),
    log: silentLogger(),
    flushIntervalMs: 100,
    ...opts,
  });
  await collector.start();
  t.teardown(() => collector.stop());
  return collector;
}

// The fleet's data plane in one piece, as the daemon starts it: the database and its stores, the
// config's miners synced in, the collector and the retention pruner; reload() for SIGHUP and
// close() for shutdown. The control plane (API, actions) works on `stores` and `collector`.
import { ConfigError, describeError } from '../shared/errors.js';
import { rootLogger, type Logger } from '../shared/log.js';
import { Collector } from './collector/collector.js';
import { loadFleetConfig } from './config/load.js';
import type { FleetConfig, FleetSettings } from './config/types.js';
import { fleetDbPath, openFleetDb, type FleetDb } from './db/open.js';
import { Pruner } from './history/prune.js';
import type { MinerDefinition } from './types.js';
import { createFleetStores, type SqliteFleetStores } from './store/index.js';

export interface DataPlaneOptions {
  config: FleetConfig;
  /** --data DIR: the database is DIR/fleet.sqlite. */
  dataDir: string;
  log?: Logger;
  now?: () => number;
  /** Environment for reloading the config (MVM_FLEET_LAB_TOKEN). */
  env?: NodeJS.ProcessEnv;
  /** How often the pruner runs, ms (default 10 min). */
  pruneIntervalMs?: number;
  /**
   * The miners a config stands for, given those stored (default: the config's own); the daemon
   * adds other labs' testbeds.
   */
  minersOf?: (config: FleetConfig, stored: MinerDefinition[]) => MinerDefinition[];
}

export type ReloadResult =
  | { ok: true; added: string[]; changed: string[]; removed: string[]; restartNeeded: string[] }
  | { ok: false; error: ConfigError | Error };

export interface DataPlane {
  db: FleetDb;
  stores: SqliteFleetStores;
  collector: Collector;
  pruner: Pruner;
  /** The config in force (replaced by a successful reload). */
  config(): FleetConfig;
  /** Re-reads the config file: miners synced and the collector told; a bad file changes nothing. Never throws. */
  reload(): ReloadResult;
  /** Syncs the miners again with the same config (the lab `lab` lists other testbeds); an event says what changed. */
  resync(lab: string): { added: string[]; changed: string[]; removed: string[] };
  /** Stops the collector (in-flight readings aborted, the last batch written) and the pruner, closes the database. */
  close(signal?: AbortSignal): Promise<void>;
}

export async function startDataPlane(opts: DataPlaneOptions): Promise<DataPlane> {
  const log = (opts.log ?? rootLogger()).child({ component: 'fleet-data' });
  let config = opts.config;
  const db = openFleetDb(fleetDbPath(opts.dataDir));
  const stores = createFleetStores(db, {
    log,
    retention: config.fleet.retention,
    ...(opts.now ? { now: opts.now } : {}),
  });
  // Roll-up buckets still open when the daemon last stopped (kill -9) are rebuilt from the raw samples.
  const repaired = stores.history.repair();
  const minersOf = opts.minersOf ?? ((c: FleetConfig) => c.miners);
  const sync = stores.miners.syncConfigMiners(minersOf(config, stores.miners.definitions()));
  log.info({ miners: config.miners.length, repairedBuckets: repaired, ...sync }, 'config miners synced');
  const collector = new Collector({
    definitions: () => stores.miners.definitions(),
    events: stores.events,
    history: stores.history,
    live: stores.live,
    settings: config.fleet,
    log,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const pruner = new Pruner({
    sqlite: db.sqlite,
    retention: config.fleet.retention,
    events: stores.events,
    log,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.pruneIntervalMs ? { intervalMs: opts.pruneIntervalMs } : {}),
  });
  try {
    await collector.start();
  } catch (err) {
    db.close();
    throw err;
  }
  pruner.start();

  const reload = (): ReloadResult => {
    let next: FleetConfig;
    try {
      next = loadFleetConfig(config.file, { env: opts.env ?? process.env });
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [];
      stores.events.append({
        kind: 'config',
        level: 'error',
        message: `config reload rejected, the running config stays: ${describeError(err).split('\n')[0]}`,
        actor: 'config',
        data: { problems },
      });
      log.error({ err }, 'config reload rejected');
      return { ok: false, error: err as Error };
    }
    const changes = stores.miners.syncConfigMiners(minersOf(next, stores.miners.definitions()));
    collector.reload();
    const restartNeeded = settingsNeedingRestart(config.fleet, next.fleet);
    config = next;
    stores.events.append({
      kind: 'config',
      level: restartNeeded.length > 0 ? 'warn' : 'info',
      message: `config reloaded: ${changes.added.length} miner(s) added, ${changes.changed.length} changed, ${changes.removed.length} removed${restartNeeded.length > 0 ? `; ${restartNeeded.join(', ')} take effect at the next start` : ''}`,
      actor: 'config',
      data: { ...changes, restartNeeded },
    });
    return { ok: true, ...changes, restartNeeded };
  };

  const resync = (lab: string) => {
    const changes = stores.miners.syncConfigMiners(minersOf(config, stores.miners.definitions()), {
      actor: 'lab',
      what: `lab ${lab}`,
    });
    if (changes.added.length + changes.changed.length + changes.removed.length === 0) return changes;
    collector.reload();
    stores.events.append({
      kind: 'config',
      message: `lab ${lab} lists other testbed devices: ${changes.added.length} miner(s) added, ${changes.changed.length} changed, ${changes.removed.length} removed`,
      actor: 'lab',
      data: { lab, ...changes },
    });
    return changes;
  };

  let closed = false;
  return {
    db,
    stores,
    collector,
    pruner,
    config: () => config,
    reload,
    resync,
    close: async (signal) => {
      if (closed) return;
      closed = true;
      await Promise.all([collector.stop(signal), pruner.stop()]);
      try {
        stores.history.persistOpen();
      } catch (err) {
        log.error({ err }, 'cannot write the open roll-ups (they are rebuilt at the next start)');
      }
      db.close();
    },
  };
}

/** [fleet] keys read once at start. */
function settingsNeedingRestart(a: FleetSettings, b: FleetSettings): string[] {
  const keys: [keyof FleetSettings, string][] = [
    ['pollIntervalMs', 'fleet.poll_interval'],
    ['udpPort', 'fleet.udp_port'],
    ['udpAddress', 'fleet.udp_address'],
    ['offlineAfter', 'fleet.offline_after'],
    ['concurrency', 'fleet.concurrency'],
    ['requestTimeoutMs', 'fleet.request_timeout'],
    ['retention', 'fleet.retention'],
    ['listen', 'fleet.listen'],
    ['adminTokenFile', 'fleet.admin_token_file'],
  ];
  return keys.filter(([k]) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map(([, name]) => name);
}

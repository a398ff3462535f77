// `mvm fleet --config FILE --data DIR [--listen HOST:PORT]`: the fleet controller. Loads the
// config (fleet-only, factory, or both), opens DIR/fleet.sqlite, syncs the config's miners,
// starts the collector and the API. SIGHUP reloads the config without a restart (a bad one is an
// event and the old one stays); SIGTERM stops gracefully (event streams end at once, actions are
// aborted, the collector drains), a second one forcefully. kill -9 loses at most the readings not
// yet flushed: everything else is in SQLite (WAL).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeError, MvmError } from '../shared/errors.js';
import { parseListen, type ListenAddress } from '../shared/listen.js';
import { createLogger, type Logger } from '../shared/log.js';
import { installShutdown } from '../shared/shutdown.js';
import { FleetActions } from './actions/actions.js';
import { buildFleetApi } from './api/app.js';
import { FleetTokens, fleetAdminToken } from './api/tokens.js';
import { startCollector } from './collector/collector.js';
import { loadFleetConfig } from './config/load.js';
import type { FleetConfig } from './config/types.js';
import { fleetDbPath, openFleetDb } from './db/open.js';
import { LabClient } from './lab-client.js';
import { startPruner } from './history/prune.js';
import { createFleetStores } from './store/index.js';

/** Where the daemon is in its life: /healthz reports it. */
export type FleetLifecycle = 'starting' | 'running' | 'reloading' | 'stopping' | 'stopped';

export const DEFAULT_FLEET_LISTEN: ListenAddress = { host: '127.0.0.1', port: 9320 };

export interface FleetDaemonOptions {
  configFile: string;
  dataDir: string;
  /** --listen; else [fleet] listen; else 127.0.0.1:9320. */
  listen?: string;
  log?: Logger;
}

function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function summary(c: FleetConfig): string {
  const testbed = c.miners.filter((m) => m.source === 'testbed').length;
  return `${c.miners.length} miner${c.miners.length === 1 ? '' : 's'} (${testbed} from testbeds), lab ${c.lab ? c.lab.url : 'none'}`;
}

export async function runFleet(o: FleetDaemonOptions): Promise<void> {
  const log = o.log ?? createLogger({ name: 'fleet' });
  let lifecycle: FleetLifecycle = 'starting';
  let config = loadFleetConfig(o.configFile);
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const listen = o.listen ? parseListen(o.listen) : (config.fleet.listen ?? DEFAULT_FLEET_LISTEN);
  const db = openFleetDb(fleetDbPath(dataDir));
  const stores = createFleetStores(db, { retention: config.fleet.retention, log });
  const shutdown = installShutdown(log);
  const stopping = new AbortController();
  let lab = config.lab ? new LabClient(config.lab) : null;
  const admin = fleetAdminToken({ file: config.fleet.adminTokenFile, dataDir });
  const tokens = new FleetTokens(admin.token, dataDir);
  const synced = stores.miners.syncConfigMiners(config.miners);
  stores.events.append({ kind: 'config', message: `started with ${config.file}: ${summary(config)}`, actor: 'config', data: { ...synced } });
  const collector = await startCollector({ definitions: () => stores.miners.definitions(), events: stores.events, history: stores.history, live: stores.live, settings: config.fleet, log });
  const pruner = startPruner({ sqlite: db.sqlite, retention: config.fleet.retention, events: stores.events, log });
  const actions = new FleetActions({ ...stores, collector, lab: () => lab, log });
  const { app, streams } = buildFleetApi({ ...stores, collector, actions, tokens, log, configFile: () => config.file, lifecycle: () => lifecycle, signal: stopping.signal });

  const reload = () => {
    if (lifecycle !== 'running') return;
    lifecycle = 'reloading';
    try {
      const next = loadFleetConfig(o.configFile);
      const diff = stores.miners.syncConfigMiners(next.miners);
      collector.reload();
      lab = next.lab ? new LabClient(next.lab) : null;
      if (next.fleet.adminTokenFile !== config.fleet.adminTokenFile) tokens.setAdmin(fleetAdminToken({ file: next.fleet.adminTokenFile, dataDir }).token);
      const later = next.fleet.pollIntervalMs !== config.fleet.pollIntervalMs || JSON.stringify(next.fleet.listen) !== JSON.stringify(config.fleet.listen);
      config = next;
      const message = `config reloaded from ${next.file}: ${diff.added.length} added, ${diff.changed.length} changed, ${diff.removed.length} removed${later ? ' ([fleet] poll_interval and listen take effect at the next start)' : ''}`;
      stores.events.append({ kind: 'config', message, actor: 'SIGHUP', data: { ...diff } });
      log.info({ ...diff }, 'config reloaded');
      process.stdout.write(`mvm fleet reloaded ${next.file}\n`);
    } catch (err) {
      const message = `config ${o.configFile} rejected on reload; the previous one stays in force: ${describeError(err)}`;
      stores.events.append({ kind: 'config', level: 'error', message, actor: 'SIGHUP' });
      log.error({ err: describeError(err) }, 'config rejected on reload');
      process.stdout.write(`mvm fleet kept its config: ${o.configFile} has problems\n`);
    } finally {
      lifecycle = 'running';
    }
  };
  const onHup = () => reload();
  process.on('SIGHUP', onHup);

  try {
    try {
      await app.listen({ host: listen.host, port: listen.port });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new MvmError('IO', `the fleet API cannot listen on ${listen.host}:${listen.port}: ${code === 'EADDRINUSE' ? 'the address is in use' : (err as Error).message}`, {
        cause: err,
        hint: 'another fleet may run here: pass --listen 127.0.0.1:PORT (port 0 picks a free one) or set [fleet] listen',
      });
    }
    const addr = app.server.address();
    const url = urlOf(listen.host, typeof addr === 'object' && addr ? addr.port : listen.port);
    log.info({ url, adminToken: admin.source, miners: config.miners.length }, 'fleet API listening');
    process.stdout.write(`mvm fleet API at ${url} (admin token: ${admin.source === 'MVM_FLEET_API_TOKEN' ? 'MVM_FLEET_API_TOKEN' : admin.source})\n`);
    lifecycle = 'running';
    process.stdout.write(`mvm fleet started: ${summary(config)}\n`);
    await new Promise<void>((r) => (shutdown.graceful.aborted ? r() : shutdown.graceful.addEventListener('abort', () => r(), { once: true })));
  } finally {
    lifecycle = 'stopping';
    process.off('SIGHUP', onHup);
    streams.closeAll();
    stopping.abort(new MvmError('ABORTED', 'the fleet is stopping'));
    await Promise.race([app.close(), new Promise((r) => shutdown.force.addEventListener('abort', r, { once: true }))]);
    await pruner.stop();
    await collector.stop(shutdown.force).catch((err: unknown) => log.warn({ err: describeError(err) }, 'collector stop'));
    stores.events.append({ kind: 'config', message: 'stopped', actor: 'signal' });
    shutdown.dispose();
    db.close();
    lifecycle = 'stopped';
    log.info('fleet stopped');
  }
}

// `mvm fleet --config FILE --data DIR [--listen HOST:PORT]`: the fleet controller. Loads the
// config (fleet-only, factory, or both), starts the data plane (DIR/fleet.sqlite, the config's
// miners synced, the collector, the pruner), the actions, the drift check and the API. SIGHUP reloads the config without a restart (a bad one is an
// event and the old one stays); SIGTERM stops gracefully (event streams end at once, actions are
// aborted, the collector drains), a second one forcefully. kill -9 loses at most the readings not
// yet flushed: everything else is in SQLite (WAL).
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeError, MvmError } from '../shared/errors.js';
import { listenOn, parseListen, type ListenAddress } from '../shared/listen.js';
import { createLogger, type Logger } from '../shared/log.js';
import { installShutdown } from '../shared/shutdown.js';
import { FleetActions } from './actions/actions.js';
import type { FastifyRequest } from 'fastify';
import { DriftWatch } from './actions/drift-watch.js';
import { bearer, buildFleetApi, fleetApiDocument } from './api/app.js';
import { labProxy, type WebPrincipal } from './web/lab-proxy.js';
import { webUi } from './web/serve.js';
import { FleetTokens, fleetAdminToken } from './api/tokens.js';
import { labsSummary, loadFleetConfig } from './config/load.js';
import type { FleetConfig } from './config/types.js';
import { fleetMiners, type LabDevice } from './lab-miners.js';
import { defaultLab, FleetLabs } from './labs.js';
import { labsRoute } from './labs-route.js';
import { startDataPlane } from './data-plane.js';
import { fleetActionsActuator } from './automation/fleet-actuator.js';
import { reservationGate } from './automation/driver-actuator.js';
import { createEnergy } from './energy/wire.js';
import { mountFleetExport } from './export/http.js';
import { startMqttExporter, type MqttExporter } from './export/mqtt.js';
import { settingsRoute } from './settings-route.js';

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
  return `${c.miners.length} miner${c.miners.length === 1 ? '' : 's'} (${testbed} from testbeds), ${labsSummary(c)}`;
}

function energySummary(c: FleetConfig): string {
  const e = c.energy;
  return e.source === 'octopus' && e.octopus
    ? `prices from Octopus ${e.octopus.product} region ${e.octopus.region} at ${e.octopus.baseUrl}`
    : e.source === 'tou'
      ? 'time-of-use prices'
      : `flat price ${e.flatPrice} p/kWh`;
}

export async function runFleet(o: FleetDaemonOptions): Promise<void> {
  const log = o.log ?? createLogger({ name: 'fleet' });
  let lifecycle: FleetLifecycle = 'starting';
  const initial = loadFleetConfig(o.configFile);
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const listen = o.listen ? parseListen(o.listen) : (initial.fleet.listen ?? DEFAULT_FLEET_LISTEN);
  const admin = fleetAdminToken({ file: initial.fleet.adminTokenFile, dataDir });
  const tokens = new FleetTokens(admin.token, dataDir);
  const shutdown = installShutdown(log);
  const stopping = new AbortController();
  // other labs' testbeds are learnt from their factory APIs (fleet/lab-miners.ts)
  const discovered = new Map<string, LabDevice[]>();
  const plane = await startDataPlane({
    config: initial,
    dataDir,
    log,
    minersOf: (c, stored) => fleetMiners(c, discovered, stored),
  });
  const { stores, collector } = plane;
  stores.events.append({
    kind: 'config',
    message: `started with ${initial.file}: ${summary(initial)}`,
    actor: 'config',
  });
  const labs = new FleetLabs({
    miners: stores.miners,
    collector,
    log,
    signal: stopping.signal,
    discovered,
    onDevicesChanged: (name) => void plane.resync(name),
  });
  labs.configure(initial);
  const actions = new FleetActions({ ...stores, collector, lab: (tb, subject) => labs.require(tb, subject), log });
  new DriftWatch({ miners: stores.miners, desired: stores.desired, actions, log, signal: stopping.signal }).start();
  const { app, streams } = buildFleetApi({
    ...stores,
    collector,
    actions,
    tokens,
    log,
    configFile: () => plane.config().file,
    lifecycle: () => lifecycle,
    signal: stopping.signal,
  });

  // prices and rules: a rule acts through the fleet's actions; a testbed's device only while the
  // rule holds that testbed's reservation (for its whole window, renewed) through its lab
  const actuator = fleetActionsActuator(actions, (id) => stores.miners.get(id), reservationGate(labs.reservations()));
  const energy = createEnergy({
    dataDir,
    config: initial.energy,
    miners: stores.miners,
    history: stores.history,
    events: stores.events,
    desired: stores.desired,
    actuator,
    log: log.child({ component: 'energy' }),
  });
  await energy.routes(app, { actorOf: (req) => bearer(tokens, req).name });
  collector.onReading(() => energy.engine.wake());
  await app.register(settingsRoute(() => plane.config()));
  await app.register(labsRoute(labs));

  // /metrics (open or token per [fleet] metrics) and /readyz; the daemon's own /healthz stays
  const modesOf = (m: { id: string }) => {
    try {
      return actions.modes(m.id).modes;
    } catch {
      return [];
    }
  };
  mountFleetExport(app, {
    miners: stores.miners,
    collector,
    desired: stores.desired,
    events: stores.events,
    modesOf,
    price: () => {
      const p = energy.prices.priceAt(Date.now());
      return p.estimated && initial.energy.source !== 'flat' ? null : { perKwh: p.price / 100, currency: 'GBP' };
    },
    ready: () => [{ name: 'lifecycle', ok: lifecycle === 'running', detail: lifecycle }],
    omit: ['healthz'],
    ...(fleetApiDocument(app) ? { document: fleetApiDocument(app) } : {}),
    ...(initial.fleet.metrics === 'token'
      ? { authorizeMetrics: (req: FastifyRequest) => void bearer(tokens, req) }
      : {}),
  });
  // [mqtt]: readings and events out, Home Assistant's mode commands in through the fleet's actions
  const mqtt: MqttExporter | null = initial.mqtt?.enabled
    ? startMqttExporter({
        config: initial.mqtt,
        miners: stores.miners,
        collector,
        events: stores.events,
        desired: stores.desired,
        modesOf,
        setMode: (id, mode, actor) => actions.setMode(id, mode, { actor, signal: stopping.signal }),
        log: log.child({ component: 'mqtt' }),
      })
    : null;

  // the web UI, and its lab pages' way to the factory API ([lab]) and the job server ([jobs])
  const webPrincipal = (req: FastifyRequest): WebPrincipal => {
    const who = bearer(tokens, req);
    return { name: who.name, admin: who.role === 'admin', readOnly: who.role !== 'admin' };
  };
  await app.register(webUi);
  await app.register(labProxy, {
    authenticate: webPrincipal,
    lab: () => defaultLab(plane.config()),
    labs: () => plane.config().labs,
    jobs: () => plane.config().jobs,
  });

  // SIGHUP: the data plane re-reads the file (a bad one is an event and changes nothing); the
  // control plane takes the new [lab].
  const onHup = () => {
    if (lifecycle !== 'running') return;
    lifecycle = 'reloading';
    const r = plane.reload();
    if (r.ok) {
      const next = plane.config();
      labs.configure(next);
      process.stdout.write(`mvm fleet reloaded ${next.file}: ${summary(next)}\n`);
    } else
      process.stdout.write(
        `mvm fleet kept its config: ${o.configFile} has problems (${describeError(r.error).split('\n')[0]})\n`,
      );
    lifecycle = 'running';
  };
  process.on('SIGHUP', onHup);

  let energyLoops: Promise<void> = Promise.resolve();
  try {
    const port = await listenOn(
      app,
      listen,
      'the fleet API',
      'another fleet may run here: pass --listen 127.0.0.1:PORT (port 0 picks a free one) or set [fleet] listen',
    );
    const url = urlOf(listen.host, port);
    log.info({ url, adminToken: admin.source, miners: initial.miners.length }, 'fleet API listening');
    process.stdout.write(`mvm fleet API at ${url} (admin token: ${admin.source})\n`);
    lifecycle = 'running';
    energyLoops = energy
      .start(stopping.signal)
      .catch((err: unknown) => log.error({ err: describeError(err) }, 'energy loops ended'));
    process.stdout.write(`mvm fleet web UI at ${url}/\n`);
    process.stdout.write(`mvm fleet energy: ${energySummary(initial)}\n`);
    process.stdout.write(`mvm fleet started: ${summary(initial)}\n`);
    await new Promise<void>((r) =>
      shutdown.graceful.aborted ? r() : shutdown.graceful.addEventListener('abort', () => r(), { once: true }),
    );
  } finally {
    lifecycle = 'stopping';
    process.off('SIGHUP', onHup);
    streams.closeAll();
    labs.stop();
    stopping.abort(new MvmError('ABORTED', 'the fleet is stopping'));
    await Promise.race([app.close(), new Promise((r) => shutdown.force.addEventListener('abort', r, { once: true }))]);
    await mqtt?.close().catch((err: unknown) => log.warn({ err: describeError(err) }, 'mqtt close'));
    await Promise.race([energyLoops, new Promise((r) => shutdown.force.addEventListener('abort', r, { once: true }))]);
    energy.close();
    stores.events.append({ kind: 'config', message: 'stopped', actor: 'signal' });
    await plane
      .close(shutdown.force)
      .catch((err: unknown) => log.warn({ err: describeError(err) }, 'data plane close'));
    shutdown.dispose();
    lifecycle = 'stopped';
    log.info('fleet stopped');
  }
}

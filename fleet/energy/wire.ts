// Everything energy and automation need, built from the `[energy]` config and the fleet's stores,
// so the daemon wires them in a few lines:
//
//   const energy = createEnergy({ dataDir, config: parseEnergySection(toml.energy, problems),
//     miners, history, events, desired, actuator, log });
//   await energy.routes(app, { actorOf });      // /api/dashboard/energy/* and /api/automation/*
//   void energy.start(signal);                   // price fetches and rule evaluations
//   collector.onReading(() => energy.engine.wake());
//   ... energy.close() after the loops end.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { DesiredStore, EventStore, HistoryStore, MinerStore } from '../types.js';
import { DriverActuator } from '../automation/driver-actuator.js';
import { RuleEngine } from '../automation/engine.js';
import { webhookNotifier, type Notifier } from '../automation/notify.js';
import { automationRoutes } from '../automation/routes.js';
import { RuleStore } from '../automation/store.js';
import type { RuleActuator } from '../automation/types.js';
import { CostCalculator } from './cost.js';
import { openEnergyDb, type EnergyDb } from './db/open.js';
import { PriceFetcher } from './fetcher.js';
import { energyRoutes } from './routes.js';
import { createPriceSource } from './sources.js';
import { PriceStore } from './store.js';
import type { EnergyConfig, PriceSource } from './types.js';

export interface EnergyDeps {
  /** the fleet's data dir (energy.sqlite goes there), a .sqlite path or ':memory:' */
  dataDir: string;
  config: EnergyConfig;
  miners: Pick<MinerStore, 'list' | 'get'>;
  history: Pick<HistoryStore, 'query' | 'latest'>;
  events: EventStore;
  log: Logger;
  /** the fleet's actions; default: a driver-backed actuator (testbed devices refused without `testbeds`) */
  actuator?: RuleActuator;
  desired?: Pick<DesiredStore, 'get'>;
  /** replaces the configured source (tests) */
  source?: PriceSource;
  notify?: Notifier;
  now?: () => number;
  /** rule evaluation interval, ms (default 60 s; also at every slot boundary) */
  evaluateEveryMs?: number;
}

export interface Energy {
  db: EnergyDb;
  prices: PriceStore;
  fetcher: PriceFetcher;
  cost: CostCalculator;
  rules: RuleStore;
  engine: RuleEngine;
  actuator: RuleActuator;
  /** registers both route plugins; `actorOf` names the caller in a rule's updatedBy */
  routes(app: FastifyInstance, opts?: { actorOf?: (req: FastifyRequest) => string }): Promise<void>;
  start(signal: AbortSignal): Promise<void>;
  close(): void;
}

export function createEnergy(d: EnergyDeps): Energy {
  const now = d.now ?? Date.now;
  const db = openEnergyDb(d.dataDir);
  const prices = new PriceStore(db, d.config.flatPrice);
  const source = d.source ?? createPriceSource(d.config);
  const fetcher = new PriceFetcher({
    source,
    store: prices,
    events: d.events,
    log: d.log.child({ part: 'prices' }),
    now,
    intervalMs: d.config.fetchIntervalMs,
    backfillMs: d.config.backfillMs,
  });
  const cost = new CostCalculator(d.history, prices, d.config.flatPrice);
  const rules = new RuleStore(db, now);
  const actuator = d.actuator ?? new DriverActuator({ miner: (id) => d.miners.get(id) });
  const engine = new RuleEngine({
    rules,
    miners: d.miners,
    prices,
    history: d.history,
    events: d.events,
    actuator,
    desired: d.desired,
    notify: d.notify ?? webhookNotifier(),
    now,
    log: d.log.child({ part: 'rules' }),
  });
  fetcher.onPrices(() => engine.wake());
  return {
    db,
    prices,
    fetcher,
    cost,
    rules,
    engine,
    actuator,
    async routes(app, opts = {}) {
      await app.register(energyRoutes, {
        prices,
        cost,
        miners: d.miners,
        fetcher,
        sourceId: source.id,
        flatPrice: d.config.flatPrice,
        now,
      });
      await app.register(automationRoutes, {
        rules,
        engine,
        miners: d.miners,
        actuator,
        prices,
        now,
        ...(opts.actorOf ? { actorOf: opts.actorOf } : {}),
      });
    },
    async start(signal) {
      await Promise.all([fetcher.start(signal), engine.start(signal, d.evaluateEveryMs)]);
    },
    close: () => db.close(),
  };
}

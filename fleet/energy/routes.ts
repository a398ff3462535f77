// The energy API, a fastify plugin the fleet daemon registers: the current and next price, the
// price timeline, and energy used and its cost for the fleet and per miner.
//   GET  /api/dashboard/energy/current
//   GET  /api/dashboard/energy/next
//   GET  /api/dashboard/energy/timeline?from=&to=
//   GET  /api/dashboard/energy/cost?from=&to=          (fleet, per miner, per day and month)
//   GET  /api/dashboard/energy/cost/:minerId?from=&to=
//   POST /api/dashboard/energy/refresh                  (fetch prices now)
import type { FastifyPluginAsync } from 'fastify';
import { MvmError } from '../../shared/errors.js';
import { londonDayStart, londonMidnight, londonParts } from '../../shared/london-time.js';
import type { MinerStore } from '../types.js';
import type { CostCalculator } from './cost.js';
import type { PriceFetcher } from './fetcher.js';
import { errorSchema, installErrorReplies, looseObject, op, rangeParams, rangeQuerySchema } from './http.js';
import type { PriceStore } from './store.js';
import type { PriceSlot } from './types.js';

export interface EnergyRoutesOptions {
  prices: PriceStore;
  cost: CostCalculator;
  miners: Pick<MinerStore, 'list' | 'get'>;
  /** the configured source (for its status); absent when none fetches */
  fetcher?: PriceFetcher;
  sourceId: string;
  flatPrice: number;
  now?: () => number;
}

const slotSchema = {
  type: 'object',
  properties: {
    validFrom: { type: 'string' },
    validTo: { type: 'string' },
    priceIncVat: { type: 'number', description: 'p/kWh including VAT' },
    priceExcVat: { type: ['number', 'null'] },
    source: { type: 'string' },
  },
} as const;

const sourceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    stale: { type: 'boolean', description: 'the source is failing; the last known prices serve' },
    lastSuccessAt: { type: ['string', 'null'] },
    lastError: { type: ['string', 'null'] },
    knownUntil: { type: ['string', 'null'] },
  },
} as const;

function view(s: PriceSlot) {
  return {
    validFrom: new Date(s.start).toISOString(),
    validTo: new Date(s.end).toISOString(),
    priceIncVat: s.priceIncVat,
    priceExcVat: s.priceExcVat,
    source: s.source,
  };
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export const energyRoutes: FastifyPluginAsync<EnergyRoutesOptions> = async (app, o) => {
  installErrorReplies(app);
  const now = o.now ?? Date.now;
  const source = () => {
    const s = o.prices.status(o.sourceId);
    return {
      id: o.sourceId,
      stale: s?.stale ?? false,
      lastSuccessAt: iso(s?.lastSuccessAt),
      lastError: s?.lastError ?? null,
      knownUntil: iso(o.prices.knownUntil()),
    };
  };
  const monthStart = (ms: number) => {
    const p = londonParts(ms);
    return londonMidnight(p.year, p.month, 1);
  };

  app.get(
    '/api/dashboard/energy/current',
    {
      config: op('read the current price'),
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              at: { type: 'string' },
              slot: { anyOf: [slotSchema, { type: 'null' }] },
              price: { type: 'number' },
              estimated: { type: 'boolean', description: 'no known slot: the flat price' },
              source: sourceSchema,
            },
          },
        },
      },
    },
    async () => {
      const t = now();
      const p = o.prices.priceAt(t);
      return {
        at: new Date(t).toISOString(),
        slot: p.slot ? view(p.slot) : null,
        price: p.price,
        estimated: p.estimated,
        source: source(),
      };
    },
  );

  app.get(
    '/api/dashboard/energy/next',
    {
      config: op('read the next price'),
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { slot: { anyOf: [slotSchema, { type: 'null' }] }, source: sourceSchema },
          },
        },
      },
    },
    async () => {
      const s = o.prices.next(now());
      return { slot: s ? view(s) : null, source: source() };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/api/dashboard/energy/timeline',
    {
      config: op('read the price timeline'),
      schema: {
        querystring: rangeQuerySchema,
        response: {
          200: {
            type: 'object',
            properties: {
              from: { type: 'string' },
              to: { type: 'string' },
              slots: { type: 'array', items: slotSchema },
              source: sourceSchema,
            },
          },
          400: errorSchema,
        },
      },
    },
    async (req) => {
      const t = now();
      const r = rangeParams(req.query, { from: londonDayStart(t), to: Math.max(o.prices.knownUntil() ?? t, t) + 1 });
      return {
        from: new Date(r.from).toISOString(),
        to: new Date(r.to).toISOString(),
        slots: o.prices.range(r).map(view),
        source: source(),
      };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/api/dashboard/energy/cost',
    {
      config: op("read the fleet's energy cost"),
      schema: {
        querystring: rangeQuerySchema,
        response: { 200: looseObject, 400: errorSchema },
      },
    },
    async (req) => {
      const t = now();
      return o.cost.fleet(o.miners, rangeParams(req.query, { from: monthStart(t), to: t }));
    },
  );

  app.get<{ Params: { minerId: string }; Querystring: { from?: string; to?: string } }>(
    '/api/dashboard/energy/cost/:minerId',
    {
      config: op("read a miner's energy cost"),
      schema: {
        params: { type: 'object', properties: { minerId: { type: 'string' } }, required: ['minerId'] },
        querystring: rangeQuerySchema,
        response: { 200: looseObject, 400: errorSchema, 404: errorSchema },
      },
    },
    async (req) => {
      if (!o.miners.get(req.params.minerId))
        throw new MvmError('NOT_FOUND', `no miner ${req.params.minerId}`, { hint: 'GET /api/miners/ lists them' });
      const t = now();
      return o.cost.miner(req.params.minerId, rangeParams(req.query, { from: monthStart(t), to: t }));
    },
  );

  app.post(
    '/api/dashboard/energy/refresh',
    {
      config: op('fetch prices now', true),
      schema: { response: { 200: looseObject } },
    },
    async () => {
      if (!o.fetcher) return { ok: true, slots: 0, added: 0, knownUntil: iso(o.prices.knownUntil()) };
      const r = await o.fetcher.fetchOnce();
      return { ...r, knownUntil: iso(r.knownUntil) };
    },
  );
};

// A stand-in for the fleet daemon's REST API, for the web UI's browser tests: the shapes of
// fleet/types.ts served from memory, the UI's own plugins (fleet/web: static files, lab proxy,
// whoami) mounted as the daemon mounts them, server-sent events it can push, and every call
// recorded. A miner given a simulator's address gets its mode set on that simulator through the
// runner's driver, so a mode change from the UI reaches a real (simulated) device.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { createDriver } from '../../runner/drivers/registry.js';
import type { Mode } from '../../runner/drivers/types.js';
import { labProxy, type Upstream, type WebPrincipal } from '../../fleet/web/lab-proxy.js';
import { webUi } from '../../fleet/web/serve.js';
import { whoamiRoute } from '../../fleet/web/whoami.js';
import type {
  FleetEvent,
  FleetStats,
  HistoryPoint,
  MinerView,
  PoolAssignment,
  PoolDefinition,
} from '../../fleet/types.js';

export const ADMIN_TOKEN = 'stub-admin-token';
export const VIEWER_TOKEN = 'stub-viewer-token';

export interface StubCall {
  method: string;
  url: string;
  body: unknown;
  who: string;
}

export interface FleetStub {
  url: string;
  calls: StubCall[];
  miners: MinerView[];
  /** Sends one server-sent event to every connected browser. */
  push(type: string, data: unknown): void;
  /** Appends a fleet event (and pushes it). */
  event(e: Omit<FleetEvent, 'id' | 'at'>): FleetEvent;
  /** The number of open event streams. */
  streams(): number;
  stats(): FleetStats;
  close(): Promise<void>;
}

export interface StubOptions {
  /** An AxeOS simulator's URL: miner bitaxe-1 lives there (mode changes are applied to it). */
  axeosSim?: string;
  lab?: Upstream;
  jobs?: Upstream;
}

const TOKENS: Record<string, WebPrincipal> = {
  [ADMIN_TOKEN]: { name: 'admin', admin: true, readOnly: false },
  [VIEWER_TOKEN]: { name: 'viewer', admin: false, readOnly: true },
};

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

function authenticate(req: FastifyRequest): WebPrincipal {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new HttpError(401, "authentication required: send 'Authorization: Bearer <token>'");
  const who = TOKENS[m[1]];
  if (!who)
    throw new HttpError(
      401,
      'invalid token: it matches no fleet API token',
      'the admin token is in fleet-api-admin-token in the data folder',
    );
  return who;
}

function miner(
  id: string,
  driver: 'axeos' | 'cgminer' | 'nmminer',
  address: string,
  hashrateGhs: number | null,
  powerW: number | null,
  expected: number,
  status: 'online' | 'offline',
  at: number,
): MinerView {
  return {
    id,
    driver,
    address,
    options: {},
    model: driver === 'axeos' ? 'Bitaxe Gamma' : driver === 'cgminer' ? 'Avalon Nano 3S' : 'NMMiner',
    expectedHashrateGhs: expected,
    tags: ['home'],
    source: 'config',
    status,
    missed: status === 'online' ? 0 : 5,
    lastSeenAt: at,
    last:
      status === 'online'
        ? {
            device: id,
            driver,
            at: new Date(at).toISOString(),
            online: true,
            hashrateGhs,
            expectedHashrateGhs: expected,
            powerW,
            efficiencyJth: powerW && hashrateGhs ? Math.round((powerW / (hashrateGhs / 1000)) * 100) / 100 : null,
            temperatures: { chip: 58.5, vr: 49 },
            fans: [{ name: 'fan', rpm: 4200, percent: 60 }],
            sharesAccepted: 120,
            sharesRejected: 1,
            uptimeS: 3600,
            firmwareVersion: 'v2.9.0',
            paused: false,
            raw: null,
          }
        : null,
    lastError: status === 'offline' ? 'connect ECONNREFUSED' : null,
    createdAt: new Date(at - 86_400_000).toISOString(),
    updatedAt: new Date(at).toISOString(),
  };
}

function history(
  from: number,
  to: number,
  base: number,
): { resolution: string; stepMs: number; points: HistoryPoint[] } {
  const span = to - from;
  const stepMs = span <= 3_600_000 ? 60_000 : span <= 86_400_000 ? 600_000 : 3_600_000;
  const points: HistoryPoint[] = [];
  for (let t = Math.ceil(from / stepMs) * stepMs; t <= to; t += stepMs) {
    const h = base * (1 + 0.05 * Math.sin(t / 3_600_000));
    const s = (x: number) => ({ min: x * 0.97, mean: x, max: x * 1.03 });
    points.push({
      t,
      n: 6,
      hashrateGhs: s(h),
      powerW: s(15 + h / 100),
      efficiencyJth: s((15 + h / 100) / (h / 1000)),
      temperatures: { chip: s(55 + 3 * Math.cos(t / 1_800_000)), vr: s(48) },
      fanRpm: s(4200),
      fanPercent: s(60),
    });
  }
  return { resolution: stepMs === 60_000 ? 'minute' : 'hour', stepMs, points };
}

function prices(from: number): Array<{ validFrom: string; validTo: string; priceIncVat: number; source: string }> {
  const out = [];
  for (let i = 0; i < 96; i++) {
    const t = from + i * 1_800_000;
    const hour = new Date(t).getHours();
    const p = hour >= 16 && hour < 19 ? 32 + (i % 3) : hour < 6 ? 6 + (i % 4) - (i === 8 ? 9 : 0) : 18 + (i % 5);
    out.push({
      validFrom: new Date(t).toISOString(),
      validTo: new Date(t + 1_800_000).toISOString(),
      priceIncVat: p,
      source: 'octopus',
    });
  }
  return out;
}

export async function startFleetStub(opts: StubOptions = {}): Promise<FleetStub> {
  const now = Date.now();
  const miners: MinerView[] = [
    miner('bitaxe-1', 'axeos', opts.axeosSim ?? 'http://127.0.0.1:1', 1180, 18.2, 1200, 'online', now),
    miner('nano-1', 'cgminer', '127.0.0.1:4028', 6300, 140, 6000, 'online', now),
    miner('nm-1', 'nmminer', '127.0.0.1:12347', null, null, 0.001, 'offline', now - 600_000),
  ];
  const modes: Record<string, string> = { 'bitaxe-1': 'standard', 'nano-1': 'med' };
  const events: FleetEvent[] = [];
  const pools: PoolDefinition[] = [
    {
      id: 'main',
      name: 'Main pool',
      url: 'stratum+tcp://pool.example',
      port: 3333,
      user: 'bc1q.worker',
      password: null,
      tls: false,
    },
    {
      id: 'backup',
      name: 'Backup pool',
      url: 'stratum+ssl://backup.example',
      port: 4333,
      user: 'bc1q.worker',
      password: null,
      tls: true,
    },
  ];
  const assignments: PoolAssignment[] = [{ scope: { tag: 'home' }, poolIds: ['main', 'backup'] }];
  const rules = [
    {
      id: 1,
      name: 'eco when dear',
      enabled: true,
      priority: 0,
      trigger: { type: 'price_above', threshold: 25 },
      conditions: { tags: ['home'] },
      action: { type: 'set_mode', mode: 'eco' },
      until: true,
      undoAction: null,
      cooldownMs: 1_800_000,
      hysteresis: 1,
    },
  ];
  const calls: StubCall[] = [];
  const clients = new Set<ServerResponse>();
  let nextId = 1;

  const app = Fastify({ logger: false });
  // its own OpenAPI paths, as the fleet API lists them (the UI reads only what is there)
  const paths = new Set<string>();
  app.addHook('onRoute', (r) => {
    if (r.url.startsWith('/api/') && !r.url.includes('*')) paths.add(r.url.replace(/:(\w+)/g, '{$1}'));
  });
  app.get('/openapi.json', async () => ({
    openapi: '3.1.0',
    paths: Object.fromEntries([...paths].map((p) => [p, {}])),
  }));
  const push = (type: string, data: unknown) => {
    const frame = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  };
  const event = (e: Omit<FleetEvent, 'id' | 'at'>): FleetEvent => {
    const full = { ...e, id: nextId++, at: new Date().toISOString() };
    events.unshift(full);
    push('event', full);
    return full;
  };
  event({
    minerId: 'nm-1',
    kind: 'offline',
    level: 'warn',
    message: 'nm-1 missed 3 readings: offline',
    actor: 'collector',
    data: null,
  });
  event({
    minerId: 'bitaxe-1',
    kind: 'online',
    level: 'info',
    message: 'bitaxe-1 answers again',
    actor: 'collector',
    data: null,
  });
  event({
    minerId: 'nano-1',
    kind: 'drift',
    level: 'warn',
    message: 'nano-1 pools differ from the wanted ones: backup missing',
    actor: 'collector',
    data: null,
  });
  event({
    minerId: 'bitaxe-1',
    kind: 'rule',
    level: 'info',
    message: 'rule "eco when dear" fired: price 32 p > 25 p',
    actor: 'rule:eco when dear',
    data: null,
  });

  const stats = (): FleetStats => {
    const on = miners.filter((m) => m.status === 'online');
    const hash = on.reduce((a, m) => a + (m.last?.hashrateGhs ?? 0), 0);
    const power = on.reduce((a, m) => a + (m.last?.powerW ?? 0), 0);
    return {
      miners: miners.length,
      online: on.length,
      offline: miners.filter((m) => m.status === 'offline').length,
      unknown: miners.filter((m) => m.status === 'unknown').length,
      hashrateGhs: hash,
      expectedHashrateGhs: miners.reduce((a, m) => a + (m.expectedHashrateGhs ?? 0), 0),
      powerW: power,
      efficiencyJth: hash > 0 ? Math.round((power / (hash / 1000)) * 100) / 100 : null,
      at: new Date().toISOString(),
    };
  };

  const fail = (reply: FastifyReply, e: unknown) => {
    const err = e as HttpError;
    return reply.code(err.statusCode ?? 500).send({ message: err.message, ...(err.hint ? { hint: err.hint } : {}) });
  };
  // the fleet API's token check on every /api route but the proxied ones (they check it themselves)
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0];
    if (
      !path.startsWith('/api/') ||
      path.startsWith('/api/lab/') ||
      path.startsWith('/api/jobs/') ||
      path === '/api/whoami'
    )
      return;
    try {
      const who = authenticate(req);
      (req as FastifyRequest & { who?: WebPrincipal }).who = who;
      if (req.method !== 'GET' && who.readOnly) throw new HttpError(403, `token ${who.name} is read-only`);
    } catch (e) {
      return fail(reply, e);
    }
  });
  app.addHook('preHandler', async (req) => {
    if (req.url.startsWith('/api/') && !req.url.startsWith('/api/lab/') && !req.url.startsWith('/api/jobs/'))
      calls.push({
        method: req.method,
        url: req.url,
        body: req.body ?? null,
        who: (req as FastifyRequest & { who?: WebPrincipal }).who?.name ?? '',
      });
  });

  await app.register(webUi);
  await app.register(whoamiRoute, { authenticate });
  await app.register(labProxy, { authenticate, lab: opts.lab, jobs: opts.jobs });

  const find = (id: string) => {
    const m = miners.find((x) => x.id === id);
    if (!m) throw new HttpError(404, `no miner ${JSON.stringify(id)}`, 'GET /api/miners/ lists them');
    return m;
  };
  const param = (req: FastifyRequest) => (req.params as { id: string }).id;
  const wrap = (fn: (req: FastifyRequest) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return await fn(req);
    } catch (e) {
      return fail(reply, e);
    }
  };

  app.get('/api/dashboard/stats', async () => stats());
  app.get('/api/dashboard/events/recent', async (req) => {
    const q = req.query as { limit?: string; miner?: string; kind?: string };
    return events
      .filter((e) => (!q.miner || e.minerId === q.miner) && (!q.kind || e.kind === q.kind))
      .slice(0, Number(q.limit ?? 50));
  });
  const slots = () => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    return prices(d.getTime());
  };
  // the energy routes' shapes (fleet/energy/routes.ts)
  const slotAt = (t: number) => slots().find((s) => Date.parse(s.validFrom) <= t && t < Date.parse(s.validTo)) ?? null;
  app.get('/api/dashboard/energy/current', async () => ({
    at: new Date().toISOString(),
    slot: slotAt(Date.now()),
    price: slotAt(Date.now())?.priceIncVat ?? null,
    estimated: false,
  }));
  app.get('/api/dashboard/energy/next', async () => ({ slot: slotAt(Date.now() + 1_800_000) }));
  app.get('/api/dashboard/energy/timeline', async () => ({ slots: slots() }));
  app.get('/api/dashboard/energy/cost', async () => {
    const d = new Date();
    const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const use = (kWh: number, cost: number) => ({ kWh, cost, estimatedKWh: 0, efficiencyJth: 20 });
    return {
      total: use(40.2, 812.5),
      days: [{ period: day, ...use(3.7, 71.4) }],
      months: [],
      miners: [
        { minerId: 'bitaxe-1', total: use(4.1, 80.3), days: [], months: [] },
        { minerId: 'nano-1', total: use(36.1, 732.2), days: [], months: [] },
      ],
    };
  });
  app.get('/api/miners/', async () => miners.map((m) => ({ ...m, mode: modes[m.id] })));
  app.get(
    '/api/miners/:id',
    wrap((req) => ({ ...find(param(req)), mode: modes[param(req)] })),
  );
  app.get(
    '/api/miners/:id/modes',
    wrap((req) => {
      const m = find(param(req));
      return {
        miner: m.id,
        driver: m.driver,
        aliases: {},
        desired: modes[m.id],
        // as the fleet answers: an NMMiner has no modes
        modes:
          m.driver === 'cgminer'
            ? ['low', 'med', 'high']
            : m.driver === 'nmminer'
              ? []
              : ['eco', 'standard', 'turbo', 'oc'],
      };
    }),
  );
  app.get(
    '/api/miners/:id/history',
    wrap((req) => {
      const m = find(param(req));
      const q = req.query as { from?: string; to?: string };
      const to = Number(q.to ?? Date.now());
      const from = Number(q.from ?? to - 3_600_000);
      return { minerId: m.id, ...history(from, to, m.expectedHashrateGhs ?? 1000) };
    }),
  );
  app.post(
    '/api/miners/:id/mode',
    wrap(async (req) => {
      const m = find(param(req));
      const mode = (req.body as { mode?: string })?.mode;
      if (!mode) throw new HttpError(400, 'body.mode is required');
      if (m.status !== 'online')
        throw new HttpError(409, `${m.id} is offline: its mode cannot be changed now`, 'wait until it answers again');
      if (m.driver === 'axeos' && opts.axeosSim) {
        const driver = createDriver({ name: m.id, driver: 'axeos', address: opts.axeosSim });
        try {
          await driver.control({ op: 'mode', mode: mode as Mode });
        } finally {
          await driver.close();
        }
      }
      modes[m.id] = mode;
      const e = event({
        minerId: m.id,
        kind: 'mode',
        level: 'info',
        message: `${m.id} mode ${mode}`,
        actor: 'admin',
        data: { mode },
      });
      push('reading', { minerId: m.id });
      return { ok: true, event: e.id };
    }),
  );
  for (const op of ['restart', 'pause', 'resume'] as const)
    app.post(
      `/api/miners/:id/${op}`,
      wrap((req) => {
        const m = find(param(req));
        if (m.status !== 'online')
          throw new HttpError(409, `${m.id} is offline: cannot ${op} it now`, 'wait until it answers again');
        event({ minerId: m.id, kind: op, level: 'info', message: `${m.id} ${op}`, actor: 'admin', data: null });
        return { ok: true };
      }),
    );
  app.get(
    '/api/miners/:id/pools',
    wrap((req) => {
      const m = find(param(req));
      const desired = assignments.find((a) => 'miner' in a.scope && a.scope.miner === m.id)?.poolIds ?? [
        'main',
        'backup',
      ];
      return { miner: m.id, pools: desired.map((id) => pools.find((p) => p.id === id)), from: 'tag:home', desired };
    }),
  );
  app.put(
    '/api/miners/:id/pools',
    wrap((req) => {
      const m = find(param(req));
      const poolIds = (req.body as { pools: string[] }).pools;
      const i = assignments.findIndex((a) => 'miner' in a.scope && a.scope.miner === m.id);
      if (i >= 0) assignments.splice(i, 1);
      assignments.push({ scope: { miner: m.id }, poolIds });
      return { poolIds };
    }),
  );
  app.get('/api/pools/', async () => pools.map((p) => ({ ...p, password: p.password ? '***' : null })));
  app.get('/api/pools/assignments', async () => assignments.map((a) => ({ scope: a.scope, pools: a.poolIds })));
  app.get('/api/tokens', async () => [{ name: 'viewer', role: 'read', createdAt: new Date(now).toISOString() }]);
  app.post(
    '/api/pools/',
    wrap((req) => {
      const b = req.body as Omit<PoolDefinition, 'id'>;
      if (!b.name) throw new HttpError(400, 'body.name is required');
      const p = { ...b, id: b.name.toLowerCase().replace(/\W+/g, '-'), password: b.password ?? null };
      pools.push(p);
      return p;
    }),
  );
  app.delete(
    '/api/pools/:id',
    wrap((req) => {
      const id = param(req);
      if (assignments.some((a) => a.poolIds.includes(id)))
        throw new HttpError(409, `pool ${id} is in use by an assignment`, 'remove it from the assignments first');
      pools.splice(
        pools.findIndex((p) => p.id === id),
        1,
      );
      return { ok: true };
    }),
  );
  app.get('/api/automation/', async () => ({ rules }));
  app.get('/api/automation/triggers/types', async () => ({
    types: [
      {
        type: 'price_above',
        description: 'the price is above a threshold (p/kWh)',
        params: [{ name: 'threshold', type: 'number' }],
      },
      {
        type: 'price_below',
        description: 'the price is below a threshold (p/kWh)',
        params: [{ name: 'threshold', type: 'number' }],
      },
      {
        type: 'cheapest_slots',
        description: 'the N cheapest slots of the day',
        params: [{ name: 'count', type: 'integer', min: 1 }],
      },
    ],
  }));
  app.get('/api/automation/actions/types', async () => ({
    types: [
      { type: 'set_mode', description: 'set the miners mode', params: [{ name: 'mode', type: 'string' }] },
      { type: 'pause', description: 'pause mining', params: [] },
    ],
  }));
  app.post('/api/automation/dry-run', async (req) => ({
    rule: req.body,
    wouldFire: [{ at: new Date().toISOString(), minerId: 'bitaxe-1', action: 'set_mode eco' }],
  }));
  app.post('/api/automation/:id/dry-run', async () => ({ wouldFire: [] }));
  app.get('/api/settings', async () => ({
    prices: { source: 'octopus', product: 'AGILE-24-10-01', region: 'C' },
    mqtt: { enabled: false },
    retention: { raw: '48h', minute: '30d', hour: '2y' },
  }));
  app.get('/api/events/stream', async (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': hello\n\n');
    clients.add(res);
    req.raw.once('close', () => clients.delete(res));
  });

  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    calls,
    miners,
    push,
    event,
    stats,
    streams: () => clients.size,
    async close() {
      for (const c of clients) c.end();
      await app.close();
    },
  };
}

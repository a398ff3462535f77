// The fleet API's routes, apart from HTTP plumbing: each parses what the schema let through,
// calls the stores or the actions, and shapes the answer. Config-defined miners are read-only here.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createDriver } from '../../runner/drivers/registry.js';
import { Problems } from '../../factory/config/problems.js';
import { checkAddress } from '../../factory/config/testbeds.js';
import type { Logger } from '../../shared/log.js';
import { parseDuration } from '../../shared/duration.js';
import { describeError } from '../../shared/errors.js';
import type { FleetActions } from '../actions/actions.js';
import type {
  CollectorHandle,
  DesiredStore,
  EventStore,
  FleetEventKind,
  HistoryStore,
  MinerDefinition,
  MinerStore,
  MinerView,
  PoolStore,
} from '../types.js';
import { HttpError } from './errors.js';
import { historyRange } from './query.js';
import type { EventStreams } from './sse.js';
import type { FleetTokens, Principal } from './tokens.js';
import { computeFleetStats } from '../store/stats.js';
import { minerView, poolView, telemetryView } from './views.js';

export interface FleetApiDeps {
  miners: MinerStore;
  pools: PoolStore;
  desired: DesiredStore;
  events: EventStore;
  history: HistoryStore;
  collector?: CollectorHandle;
  actions: FleetActions;
  tokens: FleetTokens;
  log: Logger;
  /** The config file config miners come from (for "edit it there" messages). */
  configFile: () => string | null;
  lifecycle: () => string;
  /** Aborted when the daemon stops: long actions (restart and wait) end. */
  signal?: AbortSignal;
}

export type Handler = (req: FastifyRequest, who: Principal, reply: FastifyReply) => unknown;

type MinerBody = Omit<MinerDefinition, 'source' | 'tags'> & { tags?: string[] };

export function buildHandlers(d: FleetApiDeps, streams: EventStreams): Record<string, Handler> {
  const p = (req: FastifyRequest) => req.params as Record<string, string>;
  const body = <T>(req: FastifyRequest) => (req.body ?? {}) as T;
  const ctx = (who: Principal) => ({ actor: who.name, signal: d.signal });
  const miner = (id: string): MinerView => {
    const m = d.miners.get(id);
    if (!m) throw new HttpError(404, `no miner ${JSON.stringify(id)}`, 'NotFound', 'GET /api/miners/ lists them');
    return m;
  };
  const view = (m: MinerView) => minerView(m, d.desired.get(m.id));
  const editable = (m: MinerView, doing: string) => {
    if (m.source === 'api') return;
    const where = m.source === 'testbed' ? `testbed ${m.testbed ?? '?'} of the factory config` : 'the fleet config';
    throw new HttpError(
      409,
      `miner ${m.id} is defined in ${where}${d.configFile() ? ` (${d.configFile()})` : ''}: it cannot ${doing} through the API`,
      'ConfigDefined',
      'edit the config and send SIGHUP to the daemon (systemctl reload mvm-fleet), which reloads it without a restart',
    );
  };
  /** The address has the driver's form (as in a config) and the driver accepts it (no device is contacted). */
  const checkDevice = (def: Pick<MinerDefinition, 'id' | 'driver' | 'address' | 'options' | 'hardware'>) => {
    const p = new Problems('request');
    checkAddress(p, 'address', def.driver, def.address);
    if (p.list.length)
      throw new HttpError(400, `address ${p.list[0].message}`, 'BadRequest', p.list[0].hint, 'body.address');
    try {
      void createDriver({
        name: def.id,
        driver: def.driver,
        address: def.address,
        options: def.options,
        hardware: def.hardware,
      }).close();
    } catch (err) {
      throw new HttpError(
        400,
        `address ${JSON.stringify(def.address)}: ${(err as Error).message.replace(/^[^:]+: /, '')}`,
        'BadRequest',
        (err as { hint?: string }).hint,
        'body.address',
      );
    }
  };
  const minerPools = (m: MinerView) => {
    const own = d.pools.assignments().find((a) => 'miner' in a.scope && a.scope.miner === m.id);
    const tag = own
      ? undefined
      : m.tags.find((t) => d.pools.assignments().some((a) => 'tag' in a.scope && a.scope.tag === t));
    const resolved = d.pools.resolveFor(m);
    return {
      miner: m.id,
      pools: resolved ? resolved.map(poolView) : null,
      from: own ? 'miner' : tag ? `tag:${tag}` : null,
      desired: d.desired.get(m.id)?.poolIds ?? null,
    };
  };
  const knownPools = (ids: string[]) => {
    const missing = ids.filter((x) => !d.pools.get(x));
    if (missing.length)
      throw new HttpError(
        400,
        `no pool ${missing.map((x) => JSON.stringify(x)).join(', ')} in the catalogue`,
        'BadRequest',
        'GET /api/pools/ lists them; POST /api/pools/ adds one',
        'body.pools',
      );
    if (new Set(ids).size !== ids.length)
      throw new HttpError(400, 'a pool appears twice in the list', 'BadRequest', undefined, 'body.pools');
  };
  const restartTimeout = (v: unknown) => {
    if (v === undefined) return undefined;
    const ms = parseDuration(v as string | number);
    if (ms === undefined || ms < 1000 || ms > 600_000)
      throw new HttpError(
        400,
        `timeout ${JSON.stringify(v)} is not a duration between 1s and 10m`,
        'BadRequest',
        'e.g. "2m" or 120',
        'body.timeout',
      );
    return ms;
  };

  return {
    'GET /api/whoami': (_req, who) => who,
    'GET /api/miners/': (req) => {
      const q = req.query as { tag?: string; status?: string };
      return d.miners
        .list()
        .filter(
          (m) => (q.tag === undefined || m.tags.includes(q.tag)) && (q.status === undefined || m.status === q.status),
        )
        .map(view);
    },
    'POST /api/miners/': (req, who) => {
      const b = body<MinerBody>(req);
      checkDevice({ ...b, options: b.options ?? {} });
      const added = d.miners.add({ ...b, options: b.options ?? {}, tags: b.tags ?? [] }, who.name);
      d.collector?.reload();
      return view(added);
    },
    'GET /api/miners/{id}': (req) => view(miner(p(req).id)),
    'PUT /api/miners/{id}': (req, who) => {
      const m = miner(p(req).id);
      editable(m, 'be edited');
      const b = body<Partial<MinerBody>>(req);
      if (b.driver !== undefined || b.address !== undefined || b.options !== undefined)
        checkDevice({
          id: m.id,
          driver: b.driver ?? m.driver,
          address: b.address ?? m.address,
          options: b.options ?? m.options,
          hardware: b.hardware ?? m.hardware,
        });
      const updated = d.miners.update(m.id, b, who.name);
      d.collector?.reload();
      return view(updated);
    },
    'DELETE /api/miners/{id}': (req, who) => {
      const m = miner(p(req).id);
      editable(m, 'be removed');
      d.miners.remove(m.id, who.name);
      d.collector?.reload();
      return { deleted: m.id };
    },
    'GET /api/miners/{id}/telemetry': async (req) => {
      let m = miner(p(req).id);
      if ((req.query as { refresh?: boolean }).refresh && d.collector) {
        await d.collector.pollNow(m.id, d.signal);
        m = miner(m.id);
      }
      return {
        miner: m.id,
        status: m.status,
        lastSeenAt: m.lastSeenAt === null ? null : new Date(m.lastSeenAt).toISOString(),
        lastError: m.lastError,
        telemetry: telemetryView(m.last),
      };
    },
    'GET /api/miners/{id}/history': (req) => {
      const m = miner(p(req).id);
      return d.history.query({ minerId: m.id, ...historyRange(req.query as Record<string, unknown>) });
    },
    'GET /api/miners/{id}/modes': (req) => d.actions.modes(p(req).id),
    'POST /api/miners/{id}/mode': (req, who) =>
      d.actions.setMode(p(req).id, body<{ mode: string }>(req).mode, ctx(who)),
    'POST /api/miners/{id}/restart': (req, who) =>
      d.actions.restart(p(req).id, {
        ...ctx(who),
        timeoutMs: restartTimeout(body<{ timeout?: unknown }>(req).timeout),
      }),
    'POST /api/miners/{id}/pause': (req, who) => d.actions.pause(p(req).id, ctx(who)),
    'POST /api/miners/{id}/resume': (req, who) => d.actions.resume(p(req).id, ctx(who)),
    'POST /api/miners/{id}/settings': (req, who) => d.actions.settings(p(req).id, body(req), ctx(who)),
    'POST /api/miners/{id}/verify': (req, who) => d.actions.verify(p(req).id, ctx(who)),
    'GET /api/miners/{id}/pools': (req) => minerPools(miner(p(req).id)),
    'PUT /api/miners/{id}/pools': async (req, who) => {
      const m = miner(p(req).id);
      const b = body<{ pools: string[]; apply?: boolean }>(req);
      knownPools(b.pools);
      d.pools.setAssignment({ scope: { miner: m.id }, poolIds: b.pools });
      if (b.apply === false) {
        const ev = d.events.append({
          minerId: m.id,
          kind: 'pools',
          message: `${m.id}: pools ${b.pools.join(', ')} assigned (not applied yet)`,
          actor: who.name,
          data: { pools: b.pools },
        });
        return {
          miner: m.id,
          action: 'pools assign',
          message: ev.message,
          needsRestart: false,
          readBack: null,
          drift: false,
          testbed: m.testbed ?? null,
          event: ev,
        };
      }
      return d.actions.applyPools(m.id, ctx(who));
    },
    'DELETE /api/miners/{id}/pools': (req, who) => {
      const m = miner(p(req).id);
      d.pools.clearAssignment({ miner: m.id });
      d.events.append({ minerId: m.id, kind: 'pools', message: `${m.id}: its own pool list cleared`, actor: who.name });
      return minerPools(m);
    },
    'POST /api/miners/{id}/pools/apply': (req, who) => d.actions.applyPools(p(req).id, ctx(who)),
    'POST /api/miners/{id}/pools/switch': (req, who) =>
      d.actions.switchPool(p(req).id, body<{ index: number }>(req).index, ctx(who)),
    'POST /api/miners/{id}/pools/prioritise': (req, who) =>
      d.actions.prioritise(p(req).id, body<{ pool: string }>(req).pool, ctx(who)),
    'PUT /api/tags/{tag}/pools': async (req, who) => {
      const b = body<{ pools: string[]; apply?: boolean }>(req);
      knownPools(b.pools);
      const tag = p(req).tag;
      d.pools.setAssignment({ scope: { tag }, poolIds: b.pools });
      d.events.append({
        kind: 'pools',
        message: `tag ${tag}: pools ${b.pools.join(', ')} assigned`,
        actor: who.name,
        data: { tag, pools: b.pools },
      });
      if (!b.apply) return { scope: { tag }, pools: b.pools };
      // Applied miner by miner (each its own reservation when it is a testbed's); one failure does not stop the rest.
      const applied: Array<{ miner: string; ok: boolean; message: string }> = [];
      for (const m of d.miners.list().filter((x) => x.tags.includes(tag))) {
        try {
          applied.push({ miner: m.id, ok: true, message: (await d.actions.applyPools(m.id, ctx(who))).message });
        } catch (err) {
          applied.push({ miner: m.id, ok: false, message: describeError(err) });
        }
      }
      return { scope: { tag }, pools: b.pools, applied };
    },
    'DELETE /api/tags/{tag}/pools': (req, who) => {
      const tag = p(req).tag;
      d.pools.clearAssignment({ tag });
      d.events.append({ kind: 'pools', message: `tag ${tag}: pool list cleared`, actor: who.name, data: { tag } });
      return { deleted: tag };
    },
    'GET /api/pools/': () => d.pools.list().map(poolView),
    'GET /api/pools/assignments': () => d.pools.assignments().map((a) => ({ scope: a.scope, pools: a.poolIds })),
    'POST /api/pools/': (req) => {
      const b = body<{
        id?: string;
        name: string;
        url: string;
        port: number;
        user: string;
        password?: string | null;
        tls?: boolean;
      }>(req);
      return poolView(d.pools.add({ ...b, password: b.password ?? null, tls: b.tls ?? false }));
    },
    'PUT /api/pools/{id}': (req) => {
      if (!d.pools.get(p(req).id))
        throw new HttpError(404, `no pool ${JSON.stringify(p(req).id)}`, 'NotFound', 'GET /api/pools/ lists them');
      return poolView(d.pools.update(p(req).id, body(req)));
    },
    'DELETE /api/pools/{id}': (req) => {
      if (!d.pools.get(p(req).id))
        throw new HttpError(404, `no pool ${JSON.stringify(p(req).id)}`, 'NotFound', 'GET /api/pools/ lists them');
      d.pools.remove(p(req).id);
      return { deleted: p(req).id };
    },
    'GET /api/dashboard/stats': () => computeFleetStats(d.miners.list()),
    'GET /api/dashboard/events/recent': (req) => {
      const q = req.query as { limit?: number; miner?: string; kind?: string | string[]; before?: number };
      const kinds =
        q.kind === undefined ? undefined : ((Array.isArray(q.kind) ? q.kind : [q.kind]) as FleetEventKind[]);
      return d.events.recent({ limit: q.limit ?? 50, minerId: q.miner, kinds, beforeId: q.before });
    },
    'GET /api/events/stream': (req, _who, reply) => {
      const q = req.query as { miner?: string };
      if (q.miner !== undefined) miner(q.miner);
      streams.serve(reply, q);
      return reply;
    },
    'GET /api/tokens': () => d.tokens.list(),
    'POST /api/tokens': (req) => {
      const b = body<{ name: string; role?: 'admin' | 'read' }>(req);
      return d.tokens.create(b.name, b.role ?? 'read');
    },
    'DELETE /api/tokens/{name}': (req) => {
      d.tokens.revoke(p(req).name);
      return { deleted: p(req).name };
    },
  };
}

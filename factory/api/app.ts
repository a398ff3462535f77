// The factory's HTTP API (fastify): bearer-token auth, bodies and queries validated against the
// OpenAPI document (unknown fields refused, not dropped), typed errors turned into clear 4xx, and
// the routes. Every change wakes the factory loop, so a released testbed is offered work at once.
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { CLIENT_LIMIT_DEFAULTS, limitConnectionsPerClient, serverOptions } from '../../shared/http-limits.js';
import { ApiError, MvmError } from '../../shared/errors.js';
import { bearerPrincipal, ERROR_STATUS, HttpError, inlineRefs } from '../../shared/http-api.js';
import { parseDuration, formatDuration } from '../../shared/duration.js';
import { newId } from '../../shared/ids.js';
import type { Logger } from '../../shared/log.js';
import type { FactoryConfig } from '../config/types.js';
import type { FactoryStore } from '../store.js';
import { isPublicPath } from '../observe/routes.js';
import { UnsatisfiableError, type TestbedService } from './testbed-service.js';
import { openApiDocument, operations, schemas } from './openapi.js';
import type { ApiPrincipal, ApiUsers } from './users.js';
import { blockerView, deviceMatches, historyView, reservationView, testbedMatches, type Filters } from './views.js';

export interface ApiDeps {
  config: FactoryConfig;
  store: FactoryStore;
  testbeds: TestbedService;
  users: ApiUsers;
  log: Logger;
  /** Something changed that may let work start (a release), or a lock changed: wake the loop. */
  onChange: () => void;
  /** The runner credential of a lock holder, returned to the reservation's holder only. */
  credential?: (holder: string) => string;
}

function bearer(users: ApiUsers, req: FastifyRequest): ApiPrincipal {
  return bearerPrincipal(req, (token) => users.authenticate(token), {
    missing:
      'the admin token is in [api] admin_token(_file), or beside the factory database; `mvm testbeds user create NAME` makes user tokens',
    invalid: 'it is not the admin token and belongs to no API user',
    check: 'check --lab-token / MVM_LAB_TOKEN',
  });
}

/** Inlines `#/components/schemas/X` references, so fastify's ajv can compile a route's schema alone. */
const deref = (s: unknown) => inlineRefs(s, schemas as Record<string, unknown>);

function requireAdmin(p: ApiPrincipal, doing: string): void {
  if (!p.admin)
    throw new HttpError(
      403,
      `${p.name} is not an administrator: only an admin can ${doing}`,
      'Forbidden',
      'use the admin token, or a user created with --admin',
    );
}

function ttlMs(config: FactoryConfig, v: unknown): number {
  if (v === undefined) return config.api.defaultTtlMs;
  const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
  if (ms === undefined)
    throw new HttpError(
      400,
      `ttl ${JSON.stringify(v)} is not a duration`,
      'BadRequest',
      'write e.g. "30m", "2h", "1d", or a number of seconds',
    );
  if (ms < 1000) throw new HttpError(400, `ttl ${JSON.stringify(v)} is too short: the minimum is 1s`, 'BadRequest');
  if (ms > config.api.maxTtlMs)
    throw new HttpError(
      400,
      `ttl ${JSON.stringify(v)} is longer than this factory allows (${formatDuration(config.api.maxTtlMs)})`,
      'BadRequest',
      'renew the reservation before it lapses instead, or ask an admin to raise [api] max_ttl',
    );
  return ms;
}

type Handler = (req: FastifyRequest, who: ApiPrincipal) => unknown;

export function buildApi(d: ApiDeps): FastifyInstance {
  const limits = serverOptions(CLIENT_LIMIT_DEFAULTS);
  const app = Fastify({
    loggerInstance: d.log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    genReqId: () => newId(),
    ...limits,
    routerOptions: { ...limits.routerOptions, ignoreTrailingSlash: false, caseSensitive: true },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true, allowUnionTypes: true } },
  });
  limitConnectionsPerClient(app.server, CLIENT_LIMIT_DEFAULTS.maxConnectionsPerClient, (addr) =>
    d.log.warn({ client: addr }, 'API connection refused: too many from one client'),
  );
  const { testbeds: service, store, users, config } = d;
  const name = (req: FastifyRequest) => (req.params as { name: string }).name;
  const body = <T>(req: FastifyRequest) => (req.body ?? {}) as T;
  const changed = <T>(v: T): T => {
    d.onChange();
    return v;
  };
  const handlers: Record<string, Handler> = {
    'GET /v1/whoami': (_req, who) => who,
    'GET /v1/testbeds': (req) => service.testbeds().filter((t) => testbedMatches(t, req.query as Filters)),
    'GET /v1/testbeds/{name}': (req) => service.testbed(name(req)),
    'GET /v1/testbeds/{name}/history': (req) => {
      const h = service.history(name(req), (req.query as { limit?: number }).limit ?? 50);
      return historyView(h.events, h.instances);
    },
    'GET /v1/devices': (req) =>
      service
        .testbeds()
        .flatMap((t) => t.devices)
        .filter((dv) => deviceMatches(dv, req.query as Filters)),
    'GET /v1/reservations': () => store.reservations.list().map((l) => reservationView(l)),
    'POST /v1/testbeds/{name}/reservation': (req, who) => {
      const b = body<{ ttl?: unknown; reason?: string; owner?: string; restore_on_release?: boolean }>(req);
      if (b.owner !== undefined && b.owner !== who.name) {
        requireAdmin(who, 'reserve a testbed for someone else');
        if (!users.exists(b.owner))
          throw new HttpError(
            404,
            `no API user ${JSON.stringify(b.owner)} to reserve for`,
            'NotFound',
            'create the user first (mvm testbeds user create NAME), or check the spelling',
          );
      }
      if (b.restore_on_release === false) requireAdmin(who, 'reserve without restoring the baseline on release');
      const l = store.reservations.reserve({
        testbed: name(req),
        owner: b.owner ?? who.name,
        reason: b.reason,
        ttlMs: ttlMs(config, b.ttl),
        restoreOnRelease: b.restore_on_release,
      });
      return changed(reservationView(l, d.credential?.(l.holder)));
    },
    'PUT /v1/testbeds/{name}/reservation': (req, who) => {
      const b = body<{ ttl?: unknown; reason?: string }>(req);
      const l = store.reservations.renew({
        testbed: name(req),
        owner: who.name,
        reason: b.reason,
        ttlMs: ttlMs(config, b.ttl),
      });
      return changed(reservationView(l, d.credential?.(l.holder)));
    },
    'DELETE /v1/testbeds/{name}/reservation': (req, who) => {
      const force = (req.query as { force?: boolean }).force === true;
      if (force) requireAdmin(who, "release another user's reservation");
      return changed(reservationView(store.reservations.release({ testbed: name(req), by: who.name, force })));
    },
    'POST /v1/testbeds/{name}/maintenance': (req, who) => {
      store.health.setMaintenance(name(req), true, { who: who.name, reason: body<{ reason?: string }>(req).reason });
      return service.testbed(name(req));
    },
    'DELETE /v1/testbeds/{name}/maintenance': (req, who) => {
      store.health.setMaintenance(name(req), false, { who: who.name });
      return changed(service.testbed(name(req)));
    },
    'POST /v1/testbeds/{name}/decommission': (req, who) => {
      store.health.decommission(name(req), { who: who.name, reason: body<{ reason?: string }>(req).reason });
      return service.testbed(name(req));
    },
    'POST /v1/testbeds/{name}/recommission': (req, who) => {
      store.health.recommission(name(req), { who: who.name });
      return changed(service.testbed(name(req)));
    },
    'POST /v1/testbeds/{name}/check': (req, who) => {
      store.health.requestCheck(name(req), { who: who.name, reason: body<{ reason?: string }>(req).reason });
      return changed(service.testbed(name(req)));
    },
    'POST /v1/requirements': async (req) => {
      const r = await service.resolveRequirement(
        body<{ devices: Array<{ hardware?: string | number; attributes?: string[] }> }>(req).devices,
      );
      d.onChange();
      return {
        target: r.target,
        target_id: r.targetId,
        requirement: r.requirement,
        description: r.description,
        testbeds: r.testbeds,
      };
    },
    'POST /v1/explain': (req) => {
      const e = service.explain(body(req));
      return { ...e, testbeds: e.testbeds.map((tb) => ({ ...tb, reasons: tb.reasons.map(blockerView) })) };
    },
    'GET /v1/users': () =>
      users.list().map((u) => ({ name: u.name, admin: u.admin, created_at: new Date(u.createdAt).toISOString() })),
    'POST /v1/users': (req) => {
      const b = body<{ name: string; admin?: boolean }>(req);
      return users.create(b.name, b.admin ?? false);
    },
    'DELETE /v1/users/{name}': (req, who) => {
      const u = users.remove(name(req), who.name);
      return { name: u.name, admin: u.admin, created_at: new Date(u.createdAt).toISOString() };
    },
  };

  // Authentication comes before validation: a request without a token learns nothing about the API.
  app.addHook('preValidation', async (req) => {
    if (req.url !== '/openapi.json' && !isPublicPath(req.url, config)) bearer(users, req);
  });

  app.get('/openapi.json', async () => openApiDocument());

  for (const [path, methods] of Object.entries(operations)) {
    for (const [method, op] of Object.entries(methods)) {
      const key = `${method.toUpperCase()} ${path}`;
      const handler = handlers[key];
      if (!handler) throw new Error(`no handler for ${key}`);
      app.route({
        method: method.toUpperCase() as 'GET',
        url: path.replace(/\{(\w+)\}/g, ':$1'),
        schema: {
          ...(op.body ? { body: deref(schemas[op.body]) as object } : {}),
          ...(op.query
            ? { querystring: { type: 'object', additionalProperties: false, properties: deref(op.query) as object } }
            : {}),
        },
        handler: async (req, reply) => {
          const who = bearer(users, req);
          if (op.admin) requireAdmin(who, op.summary);
          const result = await handler(req, who);
          return reply.code(op.ok).send(result);
        },
      });
    }
  }

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    let status = 500;
    let message = 'internal error; see the factory log for this request id';
    let code = 'Internal';
    let hint: string | undefined;
    let extra: Record<string, unknown> = {};
    if (err instanceof UnsatisfiableError) {
      [status, message, code, hint] = [422, err.message, 'Unsatisfiable', err.hint];
      extra = { testbeds: err.testbeds };
    } else if (err instanceof HttpError) {
      [status, message, code, hint] = [err.status, err.message, err.errorCode, err.hint];
    } else if (err instanceof ApiError) {
      [status, message, code, hint] = [503, `the job server did not help: ${err.message}`, 'Unavailable', err.hint];
    } else if (err instanceof MvmError && ERROR_STATUS[err.code]) {
      [status, code] = ERROR_STATUS[err.code]!;
      [message, hint] = [err.message, err.hint];
    } else if ((err as FastifyError).validation) {
      [status, message, code] = [400, `invalid request: ${err.message}`, 'BadRequest'];
    } else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
      [status, message, code] = [
        (err as FastifyError).statusCode!,
        err.message,
        (err as FastifyError).code ?? 'BadRequest',
      ];
    } else {
      req.log.error({ err, url: req.url.split('?')[0] }, 'request failed');
    }
    if (status < 500) req.log.info({ status, url: req.url.split('?')[0], message }, 'request refused');
    void reply
      .code(status)
      .send({ message, ...(hint ? { hint } : {}), error_code: code, request_id: String(req.id), ...extra });
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({
      message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}`,
      hint: 'GET /openapi.json lists the endpoints',
      error_code: 'NotFound',
      request_id: String(req.id),
    });
  });
  return app;
}

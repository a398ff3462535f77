// The fleet's HTTP API (fastify): bearer tokens (admin, or read-only: GET only), bodies and
// queries validated against the OpenAPI document (unknown fields refused, each problem named by
// field), typed errors turned into clear 4xx, /healthz and /openapi.json without a token, and the
// server-sent event stream.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { newId } from '../../shared/ids.js';
import { bearerPrincipal, HttpError, inlineRefs } from '../../shared/http-api.js';
import { errorBody } from './errors.js';
import { buildHandlers, type FleetApiDeps } from './handlers.js';
import { openApiDocument, operations, schemas, type ExtraPaths } from './openapi.js';
import { EventStreams } from './sse.js';
import type { FleetTokens, Principal } from './tokens.js';

export type { FleetApiDeps };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a route does, for the token roles: a write needs an admin token. */
    op?: { summary: string; write?: boolean };
  }
}

/** Inlines `#/components/schemas/X` references, so fastify's ajv can compile a route's schema alone. */
const deref = (s: unknown) => inlineRefs(s, schemas as Record<string, unknown>);

export function bearer(tokens: FleetTokens, req: FastifyRequest): Principal {
  return bearerPrincipal(req, (token) => tokens.authenticate(token), {
    missing:
      'the admin token is in [fleet] admin_token_file, MVM_FLEET_API_TOKEN, or the file fleet-api-admin-token in the fleet --data folder',
    invalid: 'it is not the admin token nor one made through /api/tokens',
    check: 'check --token / MVM_FLEET_TOKEN',
  });
}

const OPEN = new Set(['/openapi.json', '/healthz']);

export interface FleetApi {
  app: FastifyInstance;
  streams: EventStreams;
}

/** Each fleet app's current OpenAPI document (routes added by plugins included), for the docs UI. */
const documents = new WeakMap<FastifyInstance, () => object>();

export function fleetApiDocument(app: FastifyInstance): (() => object) | undefined {
  return documents.get(app);
}

export function buildFleetApi(d: FleetApiDeps): FleetApi {
  const app = Fastify({
    loggerInstance: d.log.child({ component: 'api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    genReqId: () => newId(),
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: true },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: true, allowUnionTypes: true } },
  });
  const streams = new EventStreams({ events: d.events, collector: d.collector });
  const handlers = buildHandlers(d, streams);

  // Authentication comes before validation: a request without a token learns nothing about the API.
  // So is the role: a read-only token learns it may not change things before its body is judged.
  app.addHook('preValidation', async (req) => {
    const path = req.url.split('?')[0];
    // the web UI's pages and assets (fleet/web/serve.ts) are public; every /api path needs a token
    if (OPEN.has(path) || !path.startsWith('/api/')) return;
    const who = bearer(d.tokens, req);
    const op = req.routeOptions.config.op;
    if (op?.write && who.role !== 'admin') {
      throw new HttpError(
        403,
        `${who.name} has a read-only token: it cannot ${op.summary}`,
        'Forbidden',
        'use the admin token, or a token made with role "admin"',
      );
    }
  });
  // An empty body with a JSON content type is an empty object (POST /restart with no options).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    if (text === '' || (text as string).trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text as string));
    } catch (err) {
      done(
        new HttpError(
          400,
          `the body is not valid JSON: ${(err as Error).message}`,
          'BadRequest',
          'send a JSON object',
          'body',
        ),
        undefined,
      );
    }
  });

  // Routes plugins add later (energy, automation: their config carries `op`) join the document.
  const extra: ExtraPaths = {};
  app.addHook('onRoute', (r) => {
    const op = r.config?.op;
    const path = r.url.replace(/:(\w+)/g, '{$1}');
    if (!op || !path.startsWith('/api/') || (operations as Record<string, unknown>)[path]) return;
    for (const method of [r.method].flat()) {
      if (method === 'HEAD') continue;
      const schema = (r.schema ?? {}) as {
        body?: object;
        querystring?: object;
        params?: object;
        response?: Record<string, object>;
      };
      extra[path] = {
        ...extra[path],
        [method.toLowerCase()]: {
          summary: op.summary,
          security: [{ bearer: [] }],
          ...(schema.body ? { requestBody: { content: { 'application/json': { schema: schema.body } } } } : {}),
          responses: {
            ...Object.fromEntries(
              Object.entries(schema.response ?? { 200: {} }).map(([code, s]) => [
                code,
                { description: Number(code) < 300 ? 'ok' : 'refused', content: { 'application/json': { schema: s } } },
              ]),
            ),
            401: {
              description: 'no token, or a token this API does not know',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
            ...(op.write
              ? {
                  403: {
                    description: 'a read-only token',
                    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
                  },
                }
              : {}),
          },
        },
      };
    }
  });
  app.get('/openapi.json', async () => openApiDocument(extra));
  documents.set(app, () => openApiDocument(extra));
  app.get('/healthz', async () => ({ status: 'ok', lifecycle: d.lifecycle() }));

  for (const [path, methods] of Object.entries(operations)) {
    for (const [method, op] of Object.entries(methods)) {
      const key = `${method.toUpperCase()} ${path}`;
      const handler = handlers[key];
      if (!handler) throw new Error(`no handler for ${key}`);
      app.route({
        method: method.toUpperCase() as 'GET',
        url: path.replace(/\{(\w+)\}/g, ':$1'),
        config: { op },
        schema: {
          ...(op.body ? { body: deref(schemas[op.body]) as object } : {}),
          querystring: { type: 'object', additionalProperties: false, properties: deref(op.query ?? {}) as object },
        },
        handler: async (req, reply) => {
          const who = bearer(d.tokens, req);
          const result = await handler(req, who, reply);
          if (op.response === 'stream') return reply;
          return reply.code(op.ok).send(result);
        },
      });
    }
  }

  app.setErrorHandler((err, req, reply) => {
    const e = errorBody(err, String(req.id));
    if (e.internal) req.log.error({ err, url: req.url.split('?')[0] }, 'request failed');
    else req.log.info({ status: e.status, url: req.url.split('?')[0], message: e.body.message }, 'request refused');
    void reply.code(e.status).send(e.body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({
      message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}`,
      hint: 'GET /openapi.json lists the endpoints',
      error_code: 'NotFound',
      request_id: String(req.id),
    });
  });
  return { app, streams };
}

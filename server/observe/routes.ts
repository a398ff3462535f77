// The job server's operator endpoints: /healthz and /readyz (no token), /metrics (a token only
// with --metrics-auth token), and its OpenAPI document with the docs UI (no token).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { loadSpec } from '../../shared/api/spec.js';
import { mountApiDocs } from '../../shared/observe/docs.js';
import { mountObservability, sqliteReady } from '../../shared/observe/http.js';
import { MVM_VERSION } from '../../shared/paths.js';
import type { ServerContext } from '../context.js';
import { unauthorized } from '../http/errors.js';
import { lookupToken } from '../model/principals.js';
import { buildServerMetrics } from './metrics.js';

export type MetricsAuth = 'open' | 'token';

const opsPath = (summary: string, description: string, content: string) => ({
  get: {
    operationId: summary.replace(/\W+/g, '_'),
    summary,
    description,
    tags: ['operations'],
    responses: {
      '200': {
        description: 'ok',
        content: { [content]: { schema: { type: content === 'application/json' ? 'object' : 'string' } } },
      },
    },
  },
});

/** The buildomat document this server implements, plus its own operator endpoints. */
export function serverOpenApi(): Record<string, unknown> {
  const spec = loadSpec() as {
    info?: Record<string, unknown>;
    paths: Record<string, unknown>;
    components?: Record<string, unknown>;
  };
  return {
    ...spec,
    info: {
      ...spec.info,
      title: 'mvm job server (buildomat API)',
      version: MVM_VERSION,
      description:
        'The buildomat user, admin, factory and worker API as `mvm server` implements it (see doc/server.md for what is not implemented). ' +
        'Every operation takes `Authorization: Bearer <token>` of the kind it needs (admin, user, factory or worker).',
    },
    components: { ...spec.components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      ...spec.paths,
      '/healthz': opsPath('healthz', 'Alive: the process answers. No token.', 'application/json'),
      '/readyz': opsPath('readyz', 'Ready: the database is open (503 otherwise). No token.', 'application/json'),
      '/metrics': opsPath(
        'metrics',
        'Prometheus text format. A token (admin or user) only when started with --metrics-auth token.',
        'text/plain',
      ),
      '/openapi.json': opsPath('openapi', 'This document. No token.', 'application/json'),
    },
  };
}

export function observeRoutes(app: FastifyInstance, ctx: ServerContext, metricsAuth: MetricsAuth = 'open'): void {
  const registry = buildServerMetrics(ctx);
  const authorizeMetrics =
    metricsAuth === 'token'
      ? (req: FastifyRequest) => {
          const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
          const p = m ? lookupToken(ctx, m[1]) : undefined;
          if (!p || (p.kind !== 'admin' && p.kind !== 'user'))
            throw unauthorized("/metrics needs the admin token or a user token: send 'Authorization: Bearer <token>'");
        }
      : undefined;
  mountObservability(app, {
    registry,
    ready: () => [
      sqliteReady('database', ctx.sqlite),
      { name: 'accepting', ok: !ctx.stopping.aborted, ...(ctx.stopping.aborted ? { detail: 'shutting down' } : {}) },
    ],
    ...(authorizeMetrics ? { authorizeMetrics } : {}),
  });
  const document = serverOpenApi();
  app.get('/openapi.json', async () => document);
  mountApiDocs(app, { document });
}

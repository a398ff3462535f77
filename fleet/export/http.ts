// What the fleet daemon mounts on its fastify app for operators, in one call: /metrics from its
// stores, /healthz and /readyz, and (given its OpenAPI document) the docs UI at /docs. Its token
// hook should let `isOperatorPath` through (and /metrics too when metrics are open).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isDocsPath, mountApiDocs } from '../../shared/observe/docs.js';
import { isHealthPath, mountObservability, type ReadyCheck } from '../../shared/observe/http.js';
import { buildFleetMetrics, type FleetMetrics, type FleetMetricsInput } from './metrics.js';

export interface FleetHttpExportOptions extends FleetMetricsInput {
  ready: () => ReadyCheck[] | Promise<ReadyCheck[]>;
  /** Throws the app's 401 for a bad token; absent: /metrics is open. */
  authorizeMetrics?: (req: FastifyRequest) => void | Promise<void>;
  /** Endpoints the fleet's app serves itself (its own /healthz reports the lifecycle). */
  omit?: Array<'healthz' | 'readyz' | 'metrics'>;
  /** The fleet API's OpenAPI document: served as the docs UI at /docs. */
  document?: Record<string, unknown> | (() => object);
}

/** Paths that never need a token: health probes and the docs pages. */
export function isOperatorPath(url: string): boolean {
  return isHealthPath(url) || isDocsPath(url);
}

export function mountFleetExport(app: FastifyInstance, o: FleetHttpExportOptions): FleetMetrics {
  const metrics = buildFleetMetrics(o);
  mountObservability(app, {
    registry: metrics.registry,
    ready: o.ready,
    ...(o.authorizeMetrics ? { authorizeMetrics: o.authorizeMetrics } : {}),
    ...(o.omit ? { omit: o.omit } : {}),
  });
  if (o.document) mountApiDocs(app, { document: o.document });
  app.addHook('onClose', async () => metrics.close());
  return metrics;
}

// The factory's operator endpoints on its API port: /healthz, /readyz (database open, job server
// reachable) and the docs UI without a token; /metrics without one unless [api] metrics = "token".
// Each pass of the loop is timed by wrapping the factory's tick, so the loop needs no hook.
import type { FastifyInstance } from 'fastify';
import { nodeTransport } from '../../shared/http-node.js';
import { mountApiDocs, isDocsPath } from '../../shared/observe/docs.js';
import { isHealthPath, mountObservability, sqliteReady, type ReadyCheck } from '../../shared/observe/http.js';
import type { FactoryConfig } from '../config/types.js';
import type { FactoryStore } from '../store.js';
import type { Factory } from '../tick.js';
import { openApiDocument } from '../api/openapi.js';
import { buildFactoryMetrics } from './metrics.js';

/** Paths the API's token check lets through. */
export function isPublicPath(url: string, config: FactoryConfig): boolean {
  const path = url.split('?')[0];
  return (
    isHealthPath(path) || isDocsPath(path) || (path === '/metrics' && (config.api.metricsAuth ?? 'open') === 'open')
  );
}

/** Whether the job server answers HTTP at all (any status will do: it is up), cached briefly. */
export function jobServerProbe(baseUrl: string, timeoutMs = 2000, cacheMs = 2000): () => Promise<ReadyCheck> {
  let last: { at: number; check: ReadyCheck } | undefined;
  return async () => {
    if (last && Date.now() - last.at < cacheMs) return last.check;
    let check: ReadyCheck;
    try {
      const r = await nodeTransport(new URL('/0/whoami', baseUrl).href, {
        method: 'GET',
        headers: {},
        body: undefined,
        signal: AbortSignal.timeout(timeoutMs),
        timeoutMs,
      });
      r.body.resume();
      check =
        r.statusCode < 500
          ? { name: 'job server', ok: true }
          : { name: 'job server', ok: false, detail: `${baseUrl} answered ${r.statusCode}` };
    } catch (err) {
      check = { name: 'job server', ok: false, detail: `${baseUrl} unreachable: ${(err as Error).message}` };
    }
    last = { at: Date.now(), check };
    return check;
  };
}

export interface ObserveFactoryOptions {
  config: FactoryConfig;
  store: FactoryStore;
  factory: Factory;
  testbeds: () => Array<{ name: string; state: string; health: string }>;
}

export function observeFactory(app: FastifyInstance, o: ObserveFactoryOptions): void {
  const metrics = buildFactoryMetrics({ store: o.store, testbeds: o.testbeds });
  const tick = o.factory.tick.bind(o.factory);
  o.factory.tick = async (opts) => {
    const started = performance.now();
    let report: Awaited<ReturnType<typeof tick>> | undefined;
    try {
      report = await tick(opts);
      return report;
    } finally {
      metrics.observeTick(performance.now() - started, report);
    }
  };
  const probe = jobServerProbe(o.config.baseUrl);
  mountObservability(app, {
    registry: metrics.registry,
    ready: async () => [sqliteReady('database', o.store.opened.sqlite), await probe()],
  });
  mountApiDocs(app, { document: openApiDocument() as Record<string, unknown> });
}

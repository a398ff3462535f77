// The endpoints every daemon serves for operators: /healthz (the process answers), /readyz (it can
// do its work: database open, upstream reachable) and /metrics (Prometheus text). The first two
// never need a token, so probes and container health checks work without secrets; /metrics needs
// one only when the daemon's config says so.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';

/** One readiness condition: its name, whether it holds, and why not. */
export interface ReadyCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface ObservabilityOptions {
  registry: Registry;
  /** The conditions /readyz reports; ready when all hold. */
  ready: () => ReadyCheck[] | Promise<ReadyCheck[]>;
  /** When given, /metrics calls it first; it throws (the app's own 401 error) for a bad token. */
  authorizeMetrics?: (req: FastifyRequest) => void | Promise<void>;
  /** Endpoints the app already serves itself (e.g. a /healthz that reports more). */
  omit?: Array<'healthz' | 'readyz' | 'metrics'>;
}

/** Paths these endpoints and the docs UI use: an app whose hook demands a token lets these through. */
export const HEALTH_PATHS = ['/healthz', '/readyz'] as const;

export function isHealthPath(url: string): boolean {
  const path = url.split('?')[0];
  return (HEALTH_PATHS as readonly string[]).includes(path);
}

export function mountObservability(app: FastifyInstance, o: ObservabilityOptions): void {
  const started = Date.now();
  const omit = new Set(o.omit ?? []);
  if (!omit.has('healthz'))
    app.get('/healthz', async (_req, reply: FastifyReply) => {
      void reply.header('cache-control', 'no-store');
      return { status: 'ok', uptime_s: Math.round((Date.now() - started) / 1000) };
    });
  if (!omit.has('readyz'))
    app.get('/readyz', async (_req, reply) => {
      let checks: ReadyCheck[];
      try {
        checks = await o.ready();
      } catch (err) {
        checks = [{ name: 'readiness', ok: false, detail: (err as Error).message }];
      }
      const ok = checks.every((c) => c.ok);
      void reply.code(ok ? 200 : 503).header('cache-control', 'no-store');
      return { status: ok ? 'ready' : 'not ready', checks };
    });
  if (!omit.has('metrics'))
    app.get('/metrics', async (req, reply) => {
      await o.authorizeMetrics?.(req);
      const text = await o.registry.metrics();
      void reply.header('content-type', o.registry.contentType).header('cache-control', 'no-store');
      return text;
    });
}

/** Readiness of a SQLite connection: open and answering a trivial query. */
export function sqliteReady(name: string, db: { open: boolean; prepare(sql: string): { get(): unknown } }): ReadyCheck {
  try {
    if (!db.open) return { name, ok: false, detail: 'the database is closed' };
    db.prepare('select 1').get();
    return { name, ok: true };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message };
  }
}

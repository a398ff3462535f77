// API documentation pages for any daemon's fastify app: the OpenAPI document it already has,
// served by @fastify/swagger in static mode, and Swagger UI at /docs with its assets served from
// node_modules (no CDN: the pages work on an offline lab network). Needs no token, like the
// document itself. The pages are rarely opened, and the plugins (with their YAML writer and
// static-file server) cost an idle daemon ~3 MB: they are loaded on the first request under
// /docs, into a fastify instance of their own that the daemon's routes hand those requests to.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DOCS_PREFIX = '/docs';

export interface ApiDocsOptions {
  /** The OpenAPI 3 document, or a function giving the current one (an app whose plugins add routes). */
  document: Record<string, unknown> | (() => object);
  /** Where the UI lives (default /docs); the document is also at PREFIX/json. */
  prefix?: string;
}

/** Whether a request path belongs to the docs pages (for apps whose hooks demand a token). */
export function isDocsPath(url: string, prefix = DOCS_PREFIX): boolean {
  const path = url.split('?')[0];
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** Routes PREFIX and PREFIX/* to the docs pages, loaded on the first request. */
export function mountApiDocs(app: FastifyInstance, o: ApiDocsOptions): void {
  const prefix = o.prefix ?? DOCS_PREFIX;
  let pages: Promise<FastifyInstance> | undefined;
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    pages ??= docsPages(o, prefix).catch((err: unknown) => {
      pages = undefined; // the next request tries again
      throw err;
    });
    const docs = await pages;
    const res = await docs.inject({
      method: req.method as 'GET' | 'HEAD',
      url: req.url,
      headers: req.headers,
    });
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined && !HOP_HEADERS.has(k)) void reply.header(k, v);
    }
    return reply.code(res.statusCode).send(res.rawPayload);
  };
  app.get(prefix, handler);
  app.get(`${prefix}/*`, handler);
  app.addHook('onClose', async () => {
    await (await pages?.catch(() => undefined))?.close();
  });
}

/** Set by the daemon's own server for its reply, not copied from the pages' answer. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'date', 'content-length']);

async function docsPages(o: ApiDocsOptions, prefix: string): Promise<FastifyInstance> {
  const [{ default: Fastify }, { default: swagger }, { default: swaggerUi }] = await Promise.all([
    import('fastify'),
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
  ]);
  const pages = Fastify({ logger: false });
  const live = typeof o.document === 'function' ? o.document : undefined;
  const first = live ? live() : o.document;
  await pages.register(swagger, { mode: 'static', specification: { document: first as never } });
  await pages.register(swaggerUi, {
    routePrefix: prefix,
    ...(live
      ? { transformSpecification: () => live() as Record<string, unknown>, transformSpecificationClone: false }
      : {}),
    staticCSP: true,
    uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
  });
  await pages.ready();
  return pages;
}

// API documentation pages for any daemon's fastify app: the OpenAPI document it already has,
// served by @fastify/swagger in static mode, and Swagger UI at /docs with its assets served from
// node_modules (no CDN: the pages work on an offline lab network). Needs no token, like the
// document itself.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

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

/** Registers the docs plugins; they load when the app starts (listen, ready or inject). */
export function mountApiDocs(app: FastifyInstance, o: ApiDocsOptions): void {
  const prefix = o.prefix ?? DOCS_PREFIX;
  void app.register(async (scope) => {
    const live = typeof o.document === 'function' ? o.document : undefined;
    const first = live ? live() : o.document;
    await scope.register(swagger, { mode: 'static', specification: { document: first as never } });
    await scope.register(swaggerUi, {
      routePrefix: prefix,
      ...(live
        ? { transformSpecification: () => live() as Record<string, unknown>, transformSpecificationClone: false }
        : {}),
      staticCSP: true,
      uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: false },
    });
  });
}

// Serves the built web UI (dist/web, made by web/build.mjs at install) from the fleet daemon:
// hashed assets cached for a year, index.html never cached and answered for every page route (the
// UI routes in the address bar), gzip when the browser takes it. Only the UI's own paths are
// registered, so nothing under /api is ever shadowed. Register with one line:
//   await app.register(webUi);              // or webUi, { dir } in tests
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { projectPath } from '../../shared/paths.js';

/** The page routes of the UI (web/src/shell.tsx): each answers index.html. */
export const PAGE_ROUTES = [
  '/',
  '/login',
  '/miners',
  '/miners/:id',
  '/pools',
  '/automation',
  '/energy',
  '/testbeds',
  '/testbeds/:name',
  '/jobs',
  '/jobs/:id',
  '/settings',
];

export const WEB_DIST = projectPath('dist', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

// uPlot sizes its parts with style attributes, hence 'unsafe-inline' for styles only
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface File {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
}

function load(path: string): File {
  const body = readFileSync(path);
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const compressible = /text|json|svg/.test(type) && body.length > 512;
  return {
    body,
    gzip: compressible ? gzipSync(body, { level: 9 }) : null,
    type,
    etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`,
  };
}

export interface WebUiOptions {
  /** The built UI (default: dist/web of the checkout). */
  dir?: string;
}

function send(req: FastifyRequest, reply: FastifyReply, f: File, cache: string): FastifyReply {
  reply
    .header('content-type', f.type)
    .header('cache-control', cache)
    .header('etag', f.etag)
    .header('x-content-type-options', 'nosniff')
    .header('vary', 'accept-encoding');
  if (req.headers['if-none-match'] === f.etag) return reply.code(304).send();
  if (f.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
    return reply.header('content-encoding', 'gzip').send(f.gzip);
  return reply.send(f.body);
}

/** The fastify plugin: the UI's pages and assets, read into memory once. */
export async function webUi(app: FastifyInstance, opts: WebUiOptions = {}): Promise<void> {
  const dir = opts.dir ?? WEB_DIST;
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) {
    app.log.warn({ dir }, 'the web UI is not built; run `npm run build` (npm ci builds it)');
    app.get('/', async (_req, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(
          `The web UI is not built (no ${indexPath}).\nRun \`npm run build\` in the mvm checkout, then restart mvm fleet.\n`,
        ),
    );
    return;
  }
  const index = load(indexPath);
  const assets = new Map<string, File>();
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir))
    for (const name of readdirSync(assetDir))
      if (statSync(join(assetDir, name)).isFile()) assets.set(name, load(join(assetDir, name)));

  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('content-security-policy', CSP)
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY');
    return send(req, reply, index, 'no-cache');
  };
  for (const url of PAGE_ROUTES) app.get(url, page);

  app.get('/assets/:name', async (req, reply) => {
    const f = assets.get((req.params as { name: string }).name);
    if (!f)
      return reply
        .code(404)
        .type('text/plain; charset=utf-8')
        .send('no such asset (the UI was rebuilt? reload the page)\n');
    // names carry their content's hash: a new build has new names
    return send(req, reply, f, 'public, max-age=31536000, immutable');
  });
}

// The lab pages' way to the factory APIs and the job server: /api/labs/NAME/* goes to the factory
// API of the lab NAME ([lab.NAME] url; "default" is [lab]), /api/lab/* to [lab]'s (or the only
// lab's), and /api/jobs/* to the job server ([jobs] url), each with the token the fleet config
// gives it, so the browser holds only its fleet token. The caller is authenticated by the fleet's
// own tokens first; a read-only token may only read (GET/HEAD). Bodies and answers pass through
// untouched (streamed), refusals keep the upstream's status and text.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Agent, request, type Dispatcher } from 'undici';
import { clientGone } from '../../shared/client-gone.js';

/** Who is asking, as the fleet API's token check says. */
export interface WebPrincipal {
  name: string;
  admin: boolean;
  readOnly: boolean;
}

export interface Upstream {
  /** Base URL, e.g. http://127.0.0.1:9090 (the factory API) or the job server's URL. */
  url: string;
  token: string;
}

export interface LabProxyOptions {
  /** [lab] url/token: the factory API. Absent: /api/lab answers 503 saying what to configure. A function is asked per request (the config may be reloaded). */
  lab?: Upstream | (() => Upstream | undefined);
  /** Every lab by name ([lab] is "default", [lab.NAME]): /api/labs/NAME/* reaches its factory API. */
  labs?: () => Array<Upstream & { name: string }>;
  /** [jobs] url/token: the job server (a user token with the admin privilege sees everyone's jobs). */
  jobs?: Upstream | (() => Upstream | undefined);
  /** The fleet API's token check: returns the caller, or throws an error with statusCode 401. */
  authenticate(req: FastifyRequest): WebPrincipal | Promise<WebPrincipal>;
  /** Upper bound of one upstream request (job log long-polls wait up to 20 s). Default 60 s. */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

const PASS_REQUEST = ['content-type', 'accept', 'if-none-match'];
const PASS_RESPONSE = [
  'content-type',
  'content-length',
  'content-disposition',
  'cache-control',
  'etag',
  'last-modified',
];
const READ = new Set(['GET', 'HEAD']);

interface Route {
  /** The path the proxied part follows. */
  prefix: (req: FastifyRequest) => string;
  what: (req: FastifyRequest) => string;
  /** The config section that names the upstream. */
  section: (req: FastifyRequest) => string;
  upstream: (req: FastifyRequest) => Upstream | undefined;
  url: string;
}

const labName = (req: FastifyRequest) => (req.params as { lab: string }).lab;

function refuse(reply: FastifyReply, status: number, message: string, hint?: string): FastifyReply {
  return reply.code(status).send({
    message,
    ...(hint ? { hint } : {}),
    error_code: status === 403 ? 'Forbidden' : status === 401 ? 'Unauthorized' : 'Upstream',
  });
}

/** The fastify plugin. Encapsulated: its raw body parser applies to its own routes only. */
export async function labProxy(app: FastifyInstance, opts: LabProxyOptions): Promise<void> {
  const dispatcher = opts.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 32 });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const upstream = (key: 'lab' | 'jobs'): Upstream | undefined => {
    const u = opts[key];
    return typeof u === 'function' ? u() : u;
  };
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 16 * 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  // what the UI can show: lab pages need their upstream configured
  app.get('/api/web/lab', async (req, reply) => {
    try {
      await opts.authenticate(req);
    } catch (e) {
      const err = e as Error & { statusCode?: number; status?: number; hint?: string };
      return refuse(reply, err.statusCode ?? err.status ?? 401, err.message, err.hint);
    }
    // `labs` only from a daemon that lists them all at GET /api/labs (the UI then uses that listing)
    return {
      lab: !!upstream('lab'),
      jobs: !!upstream('jobs'),
      ...(opts.labs ? { labs: opts.labs().map((l) => l.name) } : {}),
    };
  });

  const routes: Route[] = [
    {
      url: '/api/lab/*',
      prefix: () => '/api/lab',
      what: () => 'the factory API',
      section: () => 'lab',
      upstream: () => upstream('lab'),
    },
    {
      url: '/api/labs/:lab/*',
      prefix: (req) => `/api/labs/${encodeURIComponent(labName(req))}`,
      what: (req) => `the factory API of lab ${labName(req)}`,
      section: (req) => (labName(req) === 'default' ? 'lab' : `lab.${labName(req)}`),
      upstream: (req) => opts.labs?.().find((l) => l.name === labName(req)),
    },
    {
      url: '/api/jobs/*',
      prefix: () => '/api/jobs',
      what: () => 'the job server',
      section: () => 'jobs',
      upstream: () => upstream('jobs'),
    },
  ];
  for (const route of routes) {
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      let who: WebPrincipal;
      try {
        who = await opts.authenticate(req);
      } catch (e) {
        const err = e as Error & { statusCode?: number; status?: number; hint?: string };
        return refuse(reply, err.statusCode ?? err.status ?? 401, err.message, err.hint);
      }
      if (who.readOnly && !READ.has(req.method)) {
        return refuse(
          reply,
          403,
          `token ${who.name} is read-only: it cannot ${req.method} ${req.url.split('?')[0]}`,
          'log in with a token that is not read-only to act on the lab',
        );
      }
      const up = route.upstream(req);
      const section = route.section(req);
      const what = route.what(req);
      if (!up) {
        return refuse(
          reply,
          503,
          `the fleet daemon has no [${section}] url in its config, so ${what} is out of reach`,
          `set [${section}] url and token (or token_file) in the fleet config and reload it`,
        );
      }
      const rest = req.url.slice(route.prefix(req).length) || '/';
      const target = up.url.replace(/\/+$/, '') + rest;
      const headers: Record<string, string> = { authorization: `Bearer ${up.token}`, 'x-mvm-fleet-user': who.name };
      for (const h of PASS_REQUEST) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const gone = clientGone(reply.raw);
      try {
        const res = await request(target, {
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body: READ.has(req.method) ? undefined : ((req.body as Buffer | undefined) ?? undefined),
          dispatcher,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: gone,
        });
        reply.code(res.statusCode);
        for (const h of PASS_RESPONSE) {
          const v = res.headers[h];
          if (typeof v === 'string') reply.header(h, v);
        }
        if (res.statusCode >= 400)
          req.log.info({ status: res.statusCode, upstream: section, path: rest.split('?')[0] }, 'upstream refused');
        return reply.send(res.body);
      } catch (e) {
        if (gone.aborted) return reply;
        const err = e as Error & { code?: string };
        req.log.warn({ err, upstream: section }, 'upstream unreachable');
        return refuse(
          reply,
          502,
          `${what} at ${up.url} did not answer: ${err.code ?? err.message}`,
          `is it running? check [${section}] url in the fleet config`,
        );
      }
    };
    app.all(route.url, handler);
  }
}

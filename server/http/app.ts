// The fastify application: body parsing with limits, the content type each operation takes,
// per-route body schemas (route-schemas.ts), the spec's Error body for every failure, and the routes.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { newId } from '../../shared/ids.js';
import type { ServerContext } from '../context.js';
import { adminRoutes } from '../routes/admin.js';
import { factoryRoutes } from '../routes/factory.js';
import { userRoutes } from '../routes/user.js';
import { userFileRoutes } from '../routes/user-files.js';
import { workerRoutes } from '../routes/worker.js';
import { workerFileRoutes } from '../routes/worker-files.js';
import { observeRoutes } from '../observe/routes.js';
import { badRequest, HttpError, storageError, tooLarge } from './errors.js';
import { useRouteSchemas } from './route-schemas.js';
import { strictValidator } from './validate.js';
import { limitConnectionsPerClient, serverOptions } from '../../shared/http-limits.js';

/** Fastify's own client errors, reworded to say what to do. */
function describeFastifyError(err: FastifyError): { status: number; message: string; code: string } {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        message: `request body too large: JSON bodies are at most ${JSON_LIMIT} bytes; send fewer events or tasks per call`,
        code: 'PayloadTooLarge',
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: `malformed JSON body: ${err.message}`, code: 'BadRequest' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        status: 415,
        message: `unsupported content type: ${err.message}; send application/json (or application/octet-stream for chunks)`,
        code: 'UnsupportedMediaType',
      };
    default:
      return { status: err.statusCode ?? 400, message: err.message, code: err.code ?? 'BadRequest' };
  }
}

const JSON_LIMIT = 16 * 1024 * 1024;

export function buildApp(ctx: ServerContext): FastifyInstance {
  const limits = serverOptions(ctx.cfg);
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: JSON_LIMIT,
    genReqId: () => newId(),
    ...limits,
    // Job and worker ids are plain path segments; no case folding or trailing-slash games.
    routerOptions: { ...limits.routerOptions, ignoreTrailingSlash: false, caseSensitive: true },
  });
  limitConnectionsPerClient(app.server, ctx.cfg.maxConnectionsPerClient, (addr) =>
    ctx.log.warn(
      { client: addr, max: ctx.cfg.maxConnectionsPerClient },
      'connection refused: too many from one client',
    ),
  );

  // Chunks: read the whole body even when it is over the limit, so that the client gets a clean
  // 413 instead of a connection reset in the middle of its upload; only the first bytes are kept.
  app.addContentTypeParser(
    'application/octet-stream',
    { bodyLimit: Number.MAX_SAFE_INTEGER },
    (_req, payload, done) => {
      const limit = ctx.cfg.maxChunkBytes;
      const parts: Buffer[] = [];
      let size = 0;
      payload.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= limit) parts.push(c);
      });
      payload.on('error', (err) => done(err, undefined));
      payload.on('end', () => {
        if (size > limit)
          done(
            tooLarge(`request body too large: chunks are at most ${limit} bytes (got ${size}); split the upload`),
            undefined,
          );
        else done(null, Buffer.concat(parts));
      });
    },
  );

  const validator = strictValidator();
  app.addHook('preValidation', async (req) => {
    const op = validator.find(req.method, req.url);
    if (!op?.requestContentType) return;
    if (op.requestContentType === 'application/json') {
      const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (ct !== '' && ct !== 'application/json') {
        throw new HttpError(
          415,
          `unsupported content type ${JSON.stringify(ct)}: ${op.operationId} takes Content-Type: application/json`,
          'UnsupportedMediaType',
        );
      }
      if (req.body === undefined || req.body === null) {
        throw badRequest(`request body required: ${op.operationId} takes a JSON body (Content-Type: application/json)`);
      }
      // The body itself is checked by its route's schema (route-schemas.ts).
    } else if (!Buffer.isBuffer(req.body)) {
      throw new HttpError(
        415,
        `${op.operationId} takes the raw bytes with Content-Type: ${op.requestContentType}`,
        'UnsupportedMediaType',
      );
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    req.log.debug(
      { method: req.method, url: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    let status: number;
    let message: string;
    let code: string | undefined;
    const storage = storageError(err);
    if (storage) {
      // Passing trouble with the disk or the database: say so, and when to try again.
      req.log.warn(
        { method: req.method, url: req.url.split('?')[0], err: (err as Error).message },
        'request refused: storage unavailable',
      );
      void reply.header('retry-after', '1');
    }
    if (err instanceof HttpError || storage) {
      const e = storage ?? (err as unknown as HttpError);
      ({ status, message } = e);
      code = e.errorCode;
    } else if (err.validation) {
      status = 400;
      message = `invalid request: ${err.message}`;
      code = 'BadRequest';
    } else if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      ({ status, message, code } = describeFastifyError(err));
    } else {
      req.log.error({ err, method: req.method, url: req.url.split('?')[0] }, 'request failed');
      status = 500;
      message = 'internal server error; see the server log for this request id';
      code = 'Internal';
    }
    if (status >= 400 && status < 500) req.log.info({ status, url: req.url.split('?')[0], message }, 'request refused');
    void reply
      .code(status)
      .header('content-type', 'application/json')
      .send({ message, request_id: String(req.id), error_code: code });
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({
      message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}`,
      request_id: String(req.id),
      error_code: 'NotFound',
    });
  });

  useRouteSchemas(app);
  adminRoutes(app, ctx);
  userRoutes(app, ctx);
  userFileRoutes(app, ctx);
  factoryRoutes(app, ctx);
  workerRoutes(app, ctx);
  workerFileRoutes(app, ctx);
  observeRoutes(app, ctx, ctx.cfg.metricsAuth);
  return app;
}

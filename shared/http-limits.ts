// Limits every mvm HTTP server (the job server, the factory API) applies to its clients: a slow
// client cannot hold a connection (request, header and keep-alive timeouts), one client address
// cannot hold more than its share of connections, and what Node and fastify refuse before a
// route runs (431 headers too large, 414 a path segment too long, 408 too slow, a malformed
// request) still answers with the API's error body {message, request_id, error_code}.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { newId } from './ids.js';

export interface ClientLimits {
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** Connections one client address may hold at once. */
  maxConnectionsPerClient: number;
}

export const CLIENT_LIMIT_DEFAULTS: ClientLimits = { requestTimeoutMs: 120_000, maxConnectionsPerClient: 256 };

/** Path parameters longer than this are refused with 414 (ids are 26 characters). */
const MAX_PARAM_LENGTH = 512;

/** The fastify options that carry the limits; `statusText` errors use the API's error body. */
export function serverOptions(l: ClientLimits) {
  return {
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: 65_000,
    http: {
      headersTimeout: Math.min(20_000, l.requestTimeoutMs),
      // Node checks the two timeouts above this often (its default, 30 s, lets a slow client stay much longer).
      connectionsCheckingInterval: Math.min(1000, l.requestTimeoutMs),
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const message = tooLong
        ? `request path too long: a path segment is at most ${MAX_PARAM_LENGTH} characters`
        : `malformed request path: ${err.message.slice(0, 200)}`;
      void reply
        .code(tooLong ? 414 : 400)
        .header('content-type', 'application/json')
        .send({ message, request_id: String(req.id), error_code: tooLong ? 'UriTooLong' : 'BadRequest' });
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, text, code, message] =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [
              408,
              'Request Timeout',
              'RequestTimeout',
              `the request did not arrive within ${Math.round(l.requestTimeoutMs / 1000)} s`,
            ]
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? [
                431,
                'Request Header Fields Too Large',
                'RequestHeaderFieldsTooLarge',
                'request headers (with the URL) too large: at most 16 KiB',
              ]
            : [400, 'Bad Request', 'BadRequest', 'malformed HTTP request'];
      rawAnswer(socket, status, text, { message, request_id: newId(), error_code: code });
    },
  };
}

/**
 * Refuses a connection beyond `max` from one client address with a 503 (the API's error body)
 * and closes it, so one client cannot take every connection the server can hold.
 */
export function limitConnectionsPerClient(server: Server, max: number, onRefused?: (address: string) => void): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? 'unknown';
    const n = (open.get(addr) ?? 0) + 1;
    if (n > max) {
      onRefused?.(addr);
      rawAnswer(socket, 503, 'Service Unavailable', {
        message: `too many connections from ${addr}: at most ${max} at once; close idle connections and retry`,
        request_id: newId(),
        error_code: 'TooManyConnections',
      });
      return;
    }
    open.set(addr, n);
    socket.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left <= 0) open.delete(addr);
      else open.set(addr, left);
    });
  });
}

function rawAnswer(socket: Socket, status: number, text: string, body: Record<string, string>): void {
  const json = JSON.stringify(body);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
  }
  socket.destroySoon?.();
  setTimeout(() => socket.destroy(), 1000).unref();
}

// The AxeOS HTTP calls, one method each, with failures turned into DriverErrors. No policy here:
// the driver decides what to call and when.
import { Readable } from 'node:stream';
import { Agent, Client } from 'undici';
import { ApiError, isAbortError } from '../../../shared/errors.js';
import { HttpClient, type RequestOptions } from '../../../shared/http.js';
import { DriverError } from '../errors.js';
import type { AxeosInfo } from './telemetry.js';

export interface AxeosClientOptions {
  device: string;
  address: string;
  /** Per-request timeout, ms. */
  requestTimeoutMs?: number;
}

const CHUNK = 16 * 1024;

// ESP-IDF's web server has few sockets (7 by default, the least recently used one purged when they
// run out) and forgets every connection when the device reboots (restart, flash, power). Reads keep
// one connection per device open a little longer than the default poll interval (10 s), so each
// reading reuses it instead of paying a TCP connect; a GET that finds its reused connection closed
// (purged, or the device rebooted) is sent once more on a new one. Writes (PATCH, POST, DELETE,
// OTA) get a connection of their own, closed after the reply: a restart or a flash drops it on
// purpose, and such a request must never be sent twice.
const READ_KEEP_ALIVE_MS = 15_000;
const readClients = new Map<string, Client>();
const readAgent = new Agent({
  connections: 1,
  keepAliveTimeout: READ_KEEP_ALIVE_MS,
  keepAliveMaxTimeout: READ_KEEP_ALIVE_MS,
  factory: (origin, opts) => {
    const client = new Client(origin, opts);
    readClients.set(String(origin), client);
    return client;
  },
});
const writeAgent = new Agent({ pipelining: 0, connections: 2 });

/** Whether the next read of `origin` goes out on a connection an earlier request opened. */
function readConnectionOpen(origin: string): boolean {
  return readClients.get(origin)?.stats.connected === true;
}

/** A reused connection that the device had closed: the request never reached it. */
function isStaleConnection(err: unknown): boolean {
  const code = (err instanceof ApiError ? (err.cause as { code?: string } | undefined)?.code : undefined) ?? '';
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

/** undici's "other side closed": the peer closed a connection that had been open (a fresh connect fails otherwise). */
function closedByPeer(err: unknown): boolean {
  const cause = err instanceof ApiError ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code === 'UND_ERR_SOCKET' && /other side closed/i.test(cause.message ?? '');
}

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export class AxeosClient {
  readonly http: HttpClient;
  /** Reads: kept-alive connections (see readAgent). */
  private readonly reads: HttpClient;
  private readonly origin: string;
  private readonly device: string;
  private readonly requestTimeoutMs: number;

  constructor(opts: AxeosClientOptions) {
    this.device = opts.device;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.http = new HttpClient({
      baseUrl: opts.address,
      timeoutMs: this.requestTimeoutMs,
      userAgent: 'mvm-runner',
      dispatcher: writeAgent,
    });
    this.reads = new HttpClient({
      baseUrl: opts.address,
      timeoutMs: this.requestTimeoutMs,
      userAgent: 'mvm-runner',
      dispatcher: readAgent,
    });
    this.origin = new URL(this.reads.baseUrl).origin;
  }

  /**
   * A GET on the kept-alive connection, sent again once on a new one if that connection was stale.
   * Whether the connection was open is judged when the request fails too: a device that reboots
   * closes it while the GET is on its way, after the check made before sending.
   */
  async get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    const reused = readConnectionOpen(this.origin);
    try {
      return await this.reads.get<T>(path, opts);
    } catch (err) {
      if (!isStaleConnection(err) || opts.signal?.aborted) throw err;
      if (!reused && !closedByPeer(err)) throw err;
      return this.reads.get<T>(path, opts);
    }
  }

  private fail(what: string, err: unknown): never {
    if (isAbortError(err)) throw err;
    if (err instanceof ApiError) {
      if (err.status === undefined) {
        const timeout = /timeout/i.test(String((err.cause as { code?: string })?.code ?? err.message));
        throw new DriverError(this.device, timeout ? 'timeout' : 'unreachable', err.message, { cause: err });
      }
      if (err.status === 401) {
        throw new DriverError(this.device, 'refused', `${what}: 401 unauthorized`, {
          cause: err,
          hint: 'AxeOS answers only clients on private addresses (10/8, 172.16/12, 192.168/16); run the runner from the lab network',
        });
      }
      throw new DriverError(this.device, err.status >= 500 ? 'bad_reply' : 'refused', err.message, {
        cause: err,
        retryable: err.status >= 500,
      });
    }
    throw new DriverError(this.device, 'unreachable', `${what}: ${(err as Error).message}`, { cause: err });
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      return this.fail(what, err);
    }
  }

  info(opts: RequestOptions = {}): Promise<AxeosInfo> {
    return this.call('GET /api/system/info', async () => {
      const info = await this.get<AxeosInfo>('/api/system/info', opts);
      if (info === null || typeof info !== 'object' || Array.isArray(info)) {
        throw new DriverError(this.device, 'bad_reply', 'GET /api/system/info: the reply is not a JSON object');
      }
      return info;
    });
  }

  /** PATCH /api/system; AxeOS answers 400 and saves nothing when any value is bad. */
  patch(settings: Record<string, unknown>, opts: RequestOptions = {}): Promise<void> {
    return this.call('PATCH /api/system', async () => {
      const res = await this.http.raw('PATCH', '/api/system', { ...opts, json: settings });
      await readText(res.body);
    });
  }

  /** DELETE /api/system/pools/{i} (v2.15): empties a pool slot. */
  deletePool(index: number, opts: RequestOptions = {}): Promise<void> {
    return this.call(`DELETE /api/system/pools/${index}`, async () => {
      const res = await this.http.raw('DELETE', `/api/system/pools/${index}`, opts);
      await readText(res.body);
    });
  }

  /** A POST whose reply is text (old firmware) or JSON {message} (newer): returns the message. */
  postMessage(path: string, json?: unknown, opts: RequestOptions = {}): Promise<string> {
    return this.call(`POST ${path}`, async () => {
      const res = await this.http.raw('POST', path, { ...opts, json });
      const text = (await readText(res.body)).trim();
      try {
        const parsed = JSON.parse(text) as { message?: unknown };
        if (parsed && typeof parsed.message === 'string') return parsed.message;
      } catch {
        /* plain text */
      }
      return text;
    });
  }

  /**
   * POST /api/system/OTA with the raw image (application/octet-stream, explicit content-length: the
   * ESP-IDF HTTP server does not take chunked bodies). `onSent` reports bytes as they leave.
   */
  ota(image: Buffer, opts: RequestOptions & { onSent?: (sent: number) => void; otp?: string }): Promise<string> {
    let sent = 0;
    const onSent = opts.onSent;
    const body = Readable.from(
      (function* () {
        for (let off = 0; off < image.length; off += CHUNK) {
          const chunk = image.subarray(off, Math.min(off + CHUNK, image.length));
          sent += chunk.length;
          onSent?.(sent);
          yield chunk;
        }
      })(),
    );
    return this.call('POST /api/system/OTA', async () => {
      const res = await this.http.raw('POST', '/api/system/OTA', {
        signal: opts.signal,
        timeoutMs: opts.timeoutMs,
        body,
        contentType: 'application/octet-stream',
        headers: { 'content-length': String(image.length), ...(opts.otp ? { 'x-otp-code': opts.otp } : {}) },
      });
      return (await readText(res.body)).trim();
    });
  }
}

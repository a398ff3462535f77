// The AxeOS HTTP calls, one method each, with failures turned into DriverErrors. No policy here:
// the driver decides what to call and when.
import { Readable } from 'node:stream';
import { Agent } from 'undici';
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

// No keep-alive: the ESP-IDF web server has a handful of sockets, and a device that rebooted
// leaves stale pooled connections behind. Two connections per device at most.
const axeosAgent = new Agent({ pipelining: 0, connections: 2 });

async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export class AxeosClient {
  readonly http: HttpClient;
  private readonly device: string;
  private readonly requestTimeoutMs: number;

  constructor(opts: AxeosClientOptions) {
    this.device = opts.device;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.http = new HttpClient({ baseUrl: opts.address, timeoutMs: this.requestTimeoutMs, userAgent: 'mvm-runner', dispatcher: axeosAgent });
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
      const info = await this.http.get<AxeosInfo>('/api/system/info', opts);
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

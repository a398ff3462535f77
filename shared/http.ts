// The one HTTP client every component uses. JSON in, JSON out, bearer auth, typed errors, an
// AbortSignal on every call, keep-alive connections. Retries are the caller's decision (shared/retry).
// The fleet daemon and the server's own calls send through undici (imported on the first request);
// the CLI, the agent and the factory through node:http (shared/http-node.ts), which costs nothing
// to load, so that a client command and an agent start fast and an idle factory stays small
// (factory/server-http.ts).
import type { Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import { ApiError } from './errors.js';

/** One request as a transport sends it; the response body is a stream. */
export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | Uint8Array | Readable | undefined;
  signal: AbortSignal | undefined;
  /** For the headers and for each wait on the body, ms. */
  timeoutMs: number;
}
export interface TransportResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}
export type Transport = (url: string, req: TransportRequest) => Promise<TransportResponse>;

let undici: Promise<typeof import('undici')> | undefined;
let defaultAgent: Dispatcher | undefined;

/** undici, with a keep-alive agent shared by every client that brings none. */
function undiciTransport(dispatcher: Dispatcher | undefined): Transport {
  return async (url, r) => {
    const u = await (undici ??= import('undici'));
    const res = await u.request(url, {
      method: r.method as Dispatcher.HttpMethod,
      headers: r.headers,
      body: r.body,
      signal: r.signal,
      dispatcher: dispatcher ?? (defaultAgent ??= new u.Agent({ keepAliveTimeout: 10_000, connections: 64 })),
      headersTimeout: r.timeoutMs,
      bodyTimeout: r.timeoutMs,
    });
    return { statusCode: res.statusCode, headers: res.headers, body: res.body as unknown as Readable };
  };
}

export interface HttpClientOptions {
  baseUrl: string;
  token?: string;
  /** Injected for tests; defaults to a keep-alive agent shared by every client. */
  dispatcher?: Dispatcher;
  /** How requests are sent (default: undici, through `dispatcher`). */
  transport?: Transport;
  /** Per-request timeout for headers and body, ms. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined | null>;
  /** A JSON-serialisable body; sent with content-type application/json. */
  json?: unknown;
  /** A raw body; sent with content-type application/octet-stream unless `contentType` says otherwise. */
  body?: Buffer | Uint8Array | Readable;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Status codes that are not errors besides 2xx. */
  okStatuses?: number[];
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export class HttpClient {
  readonly baseUrl: string;
  private token: string | undefined;
  private readonly send: Transport;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(opts: HttpClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.token = opts.token;
    this.send = opts.transport ?? undiciTransport(opts.dispatcher);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'mvm';
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  /** Sends a request and returns the raw response; non-OK statuses become ApiError. */
  async raw(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...opts.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | Buffer | Uint8Array | Readable | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.body !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/octet-stream';
      body = opts.body;
    }
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    let res: TransportResponse;
    try {
      res = await this.send(url, { method, headers, body, signal: opts.signal, timeoutMs: timeout });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const code = (err as { code?: string }).code;
      throw new ApiError(
        method,
        url,
        undefined,
        `${method} ${url}: ${(err as Error).message}${code ? ` (${code})` : ''}`,
        {
          cause: err,
          hint: 'check that the server is running and the URL is right',
        },
      );
    }
    const ok = (res.statusCode >= 200 && res.statusCode < 300) || (opts.okStatuses ?? []).includes(res.statusCode);
    if (!ok) {
      const text = await streamText(res.body).catch(() => '');
      let parsed: unknown = text;
      let message = text.slice(0, 500);
      try {
        parsed = JSON.parse(text);
        const m = (parsed as { message?: unknown }).message;
        if (typeof m === 'string') message = m;
      } catch {
        /* not JSON: keep the text */
      }
      throw new ApiError(method, url, res.statusCode, `${method} ${path}: ${res.statusCode} ${message}`.trim(), {
        body: parsed,
        hint: hintForStatus(res.statusCode),
      });
    }
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  /** Sends a request and parses a JSON reply (undefined for an empty body, e.g. 204). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, opts);
    const text = await streamText(res.body);
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ApiError(method, this.url(path), res.status, `${method} ${path}: reply is not JSON`, {
        cause: err,
        retryable: false,
      });
    }
  }

  get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.json<T>('GET', path, opts);
  }
  post<T>(path: string, json?: unknown, opts?: RequestOptions): Promise<T> {
    return this.json<T>('POST', path, { ...opts, json });
  }
  put<T>(path: string, json?: unknown, opts?: RequestOptions): Promise<T> {
    return this.json<T>('PUT', path, { ...opts, json });
  }
  patch<T>(path: string, json?: unknown, opts?: RequestOptions): Promise<T> {
    return this.json<T>('PATCH', path, { ...opts, json });
  }
  delete<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.json<T>('DELETE', path, opts);
  }
}

async function streamText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

function hintForStatus(status: number): string | undefined {
  switch (status) {
    case 401:
      return 'the token is missing or wrong: check --token, MVM_TOKEN or the profile file';
    case 403:
      return 'the token is valid but not allowed to do this';
    case 404:
      return 'the id or path does not exist on this server';
    case 409:
      return 'the resource is in a state that does not allow this now';
    default:
      return status >= 500 ? 'the server failed; retry later or read its log' : undefined;
  }
}

/** Encodes one path segment (ids, names) for use in an API path. */
export function seg(s: string | number): string {
  return encodeURIComponent(String(s));
}

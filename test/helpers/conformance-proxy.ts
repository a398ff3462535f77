// A recording HTTP proxy for integration tests: put it between a client (mvm job, agent, factory,
// a scripted worker) and a server, and every request and response that passes through is validated
// against the buildomat OpenAPI document. Tests assert `violations` is empty at the end.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { SpecValidator } from '../../shared/api/spec.js';

export interface Exchange {
  method: string;
  path: string;
  operationId: string | undefined;
  status: number;
}

export interface ConformanceProxy {
  url: string;
  violations: string[];
  exchanges: Exchange[];
  /** operationIds seen at least once. */
  seen(): Set<string>;
  close(): Promise<void>;
}

let sharedValidator: SpecValidator | undefined;
export function specValidator(): SpecValidator {
  sharedValidator ??= new SpecValidator();
  return sharedValidator;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parseJson(buf: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** Streaming endpoints whose responses are passed through without buffering. */
const STREAMING = /\/(watch|outputs\/[^/]+|inputs\/[^/]+)$/;

export async function startConformanceProxy(target: string): Promise<ConformanceProxy> {
  const validator = specValidator();
  const violations: string[] = [];
  const exchanges: Exchange[] = [];
  const base = target.replace(/\/+$/, '');

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const op = validator.find(method, path);
    try {
      const body = await readAll(req);
      const ct = req.headers['content-type'];
      if (op?.requestContentType === 'application/json' || (ct ?? '').startsWith('application/json')) {
        const parsed = body.length ? parseJson(body) : { ok: true as const, value: undefined };
        if (!parsed.ok) violations.push(`${method} ${path}: request body is not JSON`);
        else
          violations.push(
            ...validator.validateRequest(method, path, ct, parsed.value).map((v) => `${method} ${path}: ${v}`),
          );
      } else {
        violations.push(
          ...validator
            .validateRequest(method, path, ct, body.length ? body : undefined)
            .map((v) => `${method} ${path}: ${v}`),
        );
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k))
          headers[k] = v;
      }
      const upstream = await request(base + path, {
        method: method as never,
        headers,
        body: body.length ? body : undefined,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      exchanges.push({ method, path, operationId: op?.operationId, status: upstream.statusCode });
      const outHeaders: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upstream.headers)) {
        if (v !== undefined && !['connection', 'keep-alive', 'transfer-encoding'].includes(k)) outHeaders[k] = v;
      }
      const rct = String(upstream.headers['content-type'] ?? '');
      if (STREAMING.test(path.split('?')[0]) && upstream.statusCode < 300 && !rct.startsWith('application/json')) {
        delete outHeaders['content-length'];
        res.writeHead(upstream.statusCode, outHeaders);
        for await (const chunk of upstream.body) res.write(chunk);
        res.end();
        return;
      }
      const rbody = Buffer.from(await upstream.body.arrayBuffer());
      let value: unknown = rbody.length ? undefined : undefined;
      if (rbody.length && rct.startsWith('application/json')) {
        const parsed = parseJson(rbody);
        if (!parsed.ok) violations.push(`${method} ${path}: response ${upstream.statusCode} is not JSON`);
        else value = parsed.value;
      } else if (rbody.length) {
        value = rbody.toString('utf8');
      }
      violations.push(
        ...validator
          .validateResponse(method, path, upstream.statusCode, rct || undefined, value)
          .map((v) => `${method} ${path}: ${v}`),
      );
      delete outHeaders['content-length'];
      outHeaders['content-length'] = String(rbody.length);
      res.writeHead(upstream.statusCode, outHeaders);
      res.end(rbody);
    } catch (err) {
      // The upstream is down (e.g. a test restarting the server): look like a dead server.
      res.destroy(err as Error);
    }
  };
  // answer() handles its own errors: a throw out of it is a test bug, left to fail the run
  const server: Server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    violations,
    exchanges,
    seen: () => new Set(exchanges.map((e) => e.operationId).filter((x): x is string => !!x)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

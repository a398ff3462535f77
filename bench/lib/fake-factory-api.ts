// A minimal job server for the factory's side of the buildomat API (shared/buildomat/factory.ts),
// in-process on loopback, so that a tick's figure is the factory's own cost rather than a real
// server's. It answers with the spec's shapes and keeps just enough state to play a job's life:
// a queued job is leased once, its worker comes online once associated, and is recycled (the job
// over) `jobTicks` ticks after the factory flushed it. Calls it does not know are counted.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FactoryWorker } from '../../shared/api/types.js';
import { newId, newToken } from '../../shared/ids.js';

export interface FakeFactoryApi {
  url: string;
  targetId: string;
  /** Queues `n` jobs for the factory to lease. */
  queue(n: number): void;
  /** Advances the fake's clock by one tick (recycling the workers whose job is over). */
  tick(): void;
  liveWorkers(): number;
  /** "METHOD path" of calls answered 404 because the fake does not know them. */
  unknown: Map<string, number>;
  close(): Promise<void>;
}

interface FakeWorker extends FactoryWorker {
  flushedAt?: number;
}

export async function startFakeFactoryApi(opts: { targetName: string; jobTicks: number }): Promise<FakeFactoryApi> {
  const targetId = newId();
  const workers = new Map<string, FakeWorker>();
  const queued: string[] = [];
  const unknown = new Map<string, number>();
  let now = 0;

  /** The agent "comes online" as soon as the factory associated the worker and looks at it again. */
  const comeOnline = (w: FakeWorker): FakeWorker => {
    if (w.private) w.online = true;
    return w;
  };

  const routes: Array<[string, RegExp, (m: RegExpExecArray, body: Record<string, unknown>) => [number, unknown]]> = [
    [
      'GET',
      /^\/0\/admin\/targets$/,
      () => [200, [{ id: targetId, name: opts.targetName, desc: 'bench', privilege: null, redirect: null }]],
    ],
    ['GET', /^\/0\/factory\/ping$/, () => [200, { ok: true }]],
    [
      'POST',
      /^\/0\/factory\/lease$/,
      () => {
        const job = queued.shift();
        return [200, { lease: job ? { job, target: targetId } : null }];
      },
    ],
    ['POST', /^\/0\/factory\/lease\/[^/]+$/, () => [200, true]],
    [
      'POST',
      /^\/0\/factory\/worker$/,
      (_m, body) => {
        const w: FakeWorker = {
          id: newId(),
          bootstrap: newToken(),
          hold: false,
          online: false,
          private: null,
          recycle: false,
          target: String(body.target),
        };
        workers.set(w.id, w);
        return [201, w];
      },
    ],
    ['GET', /^\/0\/factory\/workers$/, () => [200, [...workers.values()].map((w) => shape(comeOnline(w)))]],
    [
      'GET',
      /^\/0\/factory\/worker\/([^/]+)$/,
      (m) => {
        const w = workers.get(m[1]);
        return [200, { worker: w ? shape(comeOnline(w)) : null }];
      },
    ],
    [
      'PATCH',
      /^\/0\/factory\/worker\/([^/]+)$/,
      (m, body) => {
        const w = workers.get(m[1]);
        if (!w) return [404, notFound('worker')];
        w.private = String(body.private);
        return [204, undefined];
      },
    ],
    ['DELETE', /^\/0\/factory\/worker\/([^/]+)$/, (m) => [200, workers.delete(m[1])]],
    [
      'POST',
      /^\/0\/factory\/worker\/([^/]+)\/flush$/,
      (m) => {
        const w = workers.get(m[1]);
        if (!w) return [404, notFound('worker')];
        w.flushedAt ??= now;
        return [204, undefined];
      },
    ],
    ['POST', /^\/0\/factory\/worker\/([^/]+)\/append$/, () => [200, { retry: false }]],
  ];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      for (const [method, re, handle] of routes) {
        const m = method === req.method ? re.exec(path) : null;
        if (!m) continue;
        const [status, out] = handle(m, body);
        return send(res, status, out);
      }
      const key = `${req.method} ${path.replace(/[0-9A-HJKMNP-TV-Z]{26}/g, '{id}')}`;
      unknown.set(key, (unknown.get(key) ?? 0) + 1);
      send(res, 404, notFound('endpoint'));
    });
  });
  // Longer than the client's keep-alive (10 s): a connection the server closes as the client reuses
  // it shows as ECONNRESET in a pass — an artefact of the fake, not a cost of the factory.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    targetId,
    queue(n) {
      for (let i = 0; i < n; i++) queued.push(newId());
    },
    tick() {
      now++;
      for (const w of workers.values())
        if (w.flushedAt !== undefined && now - w.flushedAt >= opts.jobTicks) w.recycle = true;
    },
    liveWorkers: () => workers.size,
    unknown,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function shape(w: FakeWorker): FactoryWorker {
  return {
    id: w.id,
    bootstrap: w.bootstrap,
    hold: w.hold,
    online: w.online,
    private: w.private,
    recycle: w.recycle,
    target: w.target,
  };
}

function notFound(what: string) {
  return { message: `${what} not found`, request_id: newToken(8), error_code: null };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

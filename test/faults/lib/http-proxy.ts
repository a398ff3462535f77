// A loopback HTTP proxy that loses answers on purpose. Put it between a client (the agent) and
// the server: for each request `decide` chooses to pass it, or to forward it and then cut the
// client's connection instead of relaying the server's answer — the request took effect but the
// client cannot know, exactly as when a server commits and dies before its reply is sent.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export type Decision = 'pass' | 'lose-answer';

export interface LossyProxy {
  url: string;
  /** Requests whose answers were lost, as `METHOD path`. */
  lost: string[];
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export async function startLossyProxy(
  target: string,
  decide: (method: string, path: string) => Decision,
): Promise<LossyProxy> {
  const lost: string[] = [];
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    try {
      const body = await readAll(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (
          typeof v === 'string' &&
          !['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(k)
        )
          headers[k] = v;
      }
      const decision = decide(method, path);
      const up = await request(target + path, {
        method: method as never,
        headers,
        body: body.length ? body : undefined,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const rbody = Buffer.from(await up.body.arrayBuffer());
      if (decision === 'lose-answer') {
        lost.push(`${method} ${path.split('?')[0]}`);
        res.socket?.destroy();
        return;
      }
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) {
        if (v !== undefined && !['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(k))
          out[k] = v;
      }
      out['content-length'] = String(rbody.length);
      res.writeHead(up.statusCode, out);
      res.end(rbody);
    } catch (err) {
      res.destroy(err as Error); // the server is down: look like it
    }
  };
  // answer() handles its own errors: a throw out of it is a test bug, left to fail the run
  const server: Server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    lost,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

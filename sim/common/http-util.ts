// Small helpers for the simulators' node:http servers (fastify would cost too much per device
// when a bench runs a thousand of them in one process).
import type { IncomingMessage, ServerResponse } from 'node:http';

export function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024, bytesPerSecond?: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const started = Date.now();
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error(`request body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
      // A slow link or flash writer: stop reading until the bytes so far fit the rate, so the
      // sender sees the backpressure as it would on a real device.
      const ahead = bytesPerSecond ? (size / bytesPerSecond) * 1000 - (Date.now() - started) : 0;
      if (ahead > 0) {
        req.pause();
        setTimeout(() => req.resume(), ahead);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Access-Control-Allow-Origin': '*',
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain'): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(text),
    'Access-Control-Allow-Origin': '*',
  });
  res.end(text);
}

/** Parses a JSON body; undefined when it is not JSON. */
export function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

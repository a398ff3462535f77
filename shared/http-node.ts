// HttpClient's transport over node:http and node:https: nothing to load beyond Node itself, so the
// CLI's client commands and the agent start fast (undici costs about as much as starting Node). Keep-alive comes
// from Node's global agents; a socket silent for the timeout ends the request.
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import type { Transport } from './http.js';

export const nodeTransport: Transport = async (url, r) => {
  const u = new URL(url);
  // node:https (and with it TLS and crypto) only for an https URL: most agents and commands talk to a local server.
  const send = u.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(u, { method: r.method, headers: r.headers, signal: r.signal }, (res) => {
      res.setTimeout(r.timeoutMs, () =>
        res.destroy(Object.assign(new Error(`the body stalled for ${r.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      );
      resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res });
    });
    req.setTimeout(r.timeoutMs, () =>
      req.destroy(Object.assign(new Error(`no answer within ${r.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.once('error', reject);
    if (r.body instanceof Readable) {
      r.body.once('error', (err) => req.destroy(err));
      r.body.pipe(req);
    } else req.end(r.body);
  });
};

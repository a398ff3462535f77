// What the job server refuses before a route runs still answers with buildomat's error body
// {message, request_id, error_code}: 413 (body too large), 414 (a path segment too long), 431
// (headers too large); and a huge array of the wrong type is described in a few lines, not 2 MB.
import t from 'tap';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startServer } from '../helpers/server.js';

/** A raw request (fetch refuses some of these headers itself). */
function send(
  url: string,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path, method: o.method ?? 'GET', headers: o.headers },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** Sends `head` on a raw connection and resolves with what comes back until the server closes it or answers. */
function headersOnly(url: string, head: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect(Number(u.port), u.hostname, () => s.write(head));
    s.on('data', (d) => {
      got += d.toString();
      const end = got.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(got)?.[1];
      if (end >= 0 && len !== undefined && got.length >= end + 4 + Number(len)) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

const shape = { message: String, request_id: /^\w+$/, error_code: String };

t.test('413, 414 and 431 keep the buildomat error body; a huge wrong-typed array gets a short 400', async (t) => {
  const srv = await startServer(t);
  const user = await srv.createUser('alice');
  const auth = { authorization: `Bearer ${user}` };

  const r414 = await send(srv.url, `/0/job/${'a'.repeat(2000)}`, { headers: auth });
  t.equal(r414.status, 414);
  t.match(JSON.parse(r414.body), {
    ...shape,
    error_code: 'UriTooLong',
    message: /path segment is at most 512 characters/,
  });

  const r431 = await send(srv.url, '/0/whoami', { headers: { ...auth, 'x-big': 'b'.repeat(20_000) } });
  t.equal(r431.status, 431);
  t.match(JSON.parse(r431.body), {
    ...shape,
    error_code: 'RequestHeaderFieldsTooLarge',
    message: /headers .* too large/,
  });

  // The announced length is refused before any of the body is read.
  const r413 = await headersOnly(
    srv.url,
    `POST /0/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${user}\r\nContent-Type: application/json\r\nContent-Length: ${17 * 1024 * 1024}\r\n\r\n`,
  );
  t.match(r413, /^HTTP\/1\.1 413 /);
  t.match(JSON.parse(r413.slice(r413.indexOf('{'))), { ...shape, error_code: 'PayloadTooLarge' });

  const tasks = new Array(200_000).fill(1);
  const r400 = await send(srv.url, '/0/jobs', {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'x', target: 't', output_rules: [], tasks }),
  });
  t.equal(r400.status, 400);
  const msg = JSON.parse(r400.body) as { message: string };
  t.match(msg, {
    ...shape,
    error_code: 'BadRequest',
    message: /^invalid request body: \/tasks\/0 must be object; .* and 199995 more problems like these$/,
  });
  t.ok(r400.body.length < 2000, `a short answer (${r400.body.length} bytes)`);
});

// Slow clients cannot hold the job server's connections: a request whose body never finishes is
// answered 408 and closed once --request-timeout passes, and one client address holds at most
// --max-connections-per-client connections (the next is answered 503 and closed). Before, 100
// slow-body connections stayed open for minutes (requestTimeout: 0).
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { waitFor } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';

interface Slow {
  socket: Socket;
  received: string;
  closed: boolean;
}

function slowBody(url: string): Promise<Slow> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s: Slow = { socket: connect(Number(port), hostname), received: '', closed: false };
    s.socket.on('data', (d) => (s.received += d.toString()));
    s.socket.on('close', () => (s.closed = true));
    s.socket.on('error', () => undefined);
    s.socket.once('connect', () => {
      // Headers complete, then one byte of a 1000-byte body, and nothing more.
      s.socket.write(
        'POST /0/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
      );
      resolve(s);
    });
    s.socket.once('error', reject);
  });
}

t.test('slow bodies are cut off and one client cannot take every connection', async (t) => {
  const srv = await startServer(t, { args: ['--request-timeout', '3s', '--max-connections-per-client', '10'] });
  const slow = await Promise.all(Array.from({ length: 10 }, () => slowBody(srv.url)));
  const extra = await slowBody(srv.url);
  await waitFor(() => extra.closed, 'the 11th connection to be closed', 10_000, 20);
  t.match(extra.received, /^HTTP\/1\.1 503 /, 'the 11th connection is answered 503');
  t.match(JSON.parse(extra.received.split('\r\n\r\n')[1]), {
    message: /too many connections from .*: at most 10 at once/,
    error_code: 'TooManyConnections',
    request_id: /\w+/,
  });

  await waitFor(() => slow.every((s) => s.closed), 'the slow connections to be closed', 30_000, 50);
  for (const s of slow) t.match(s.received, /^HTTP\/1\.1 408 /, 'a slow body is answered 408');
  t.match(JSON.parse(slow[0].received.split('\r\n\r\n')[1]), {
    message: /did not arrive within 3 s/,
    error_code: 'RequestTimeout',
  });

  // The server serves again once they are gone.
  const res = await fetch(`${srv.url}/0/whoami`);
  t.equal(res.status, 401, 'a new client is served');
});

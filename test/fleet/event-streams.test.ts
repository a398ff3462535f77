// The web UI's event streams (fleet/api/sse.ts) end on the server when their browser goes away,
// so a closed tab leaves no subscription behind; shutdown ends the rest.
import t from 'tap';
import Fastify from 'fastify';
import { EventStreams } from '../../fleet/api/sse.js';
import type { EventStore } from '../../fleet/types.js';
import { waitFor } from '../helpers/mvm-process.js';

t.test('a stream whose client disconnects is ended and unsubscribed', async (t) => {
  let subscribers = 0;
  const events = {
    subscribe: () => {
      subscribers++;
      return () => subscribers--;
    },
  } as unknown as EventStore;
  const streams = new EventStreams({ events });
  const app = Fastify();
  app.get('/stream', (_req, reply) => streams.serve(reply, {}));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const { port } = app.server.address() as { port: number };

  const clients = [new AbortController(), new AbortController()];
  for (const c of clients) {
    const res = await fetch(`http://127.0.0.1:${port}/stream`, { signal: c.signal });
    const reader = res.body!.getReader();
    t.match(Buffer.from((await reader.read()).value!).toString(), /retry: 2000/, 'the stream opened');
  }
  t.equal(streams.count, 2);
  t.equal(subscribers, 2);
  clients[0]!.abort();
  await waitFor(() => streams.count === 1 || undefined, 'the server to end the stream of the client that left');
  t.equal(subscribers, 1, 'its subscription removed');
  streams.closeAll();
  t.equal(streams.count, 0, 'shutdown ends the rest');
  t.equal(subscribers, 0);
  clients[1]!.abort();
});

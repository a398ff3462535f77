// Whether the client of a held request (a long-poll, a stream, a proxied call) has gone away.
// The request's own 'close' event says nothing of that: since Node 16 it is emitted once the
// request has been read, which for a held request is before or just after its handler starts,
// depending on timing. The response closing before it has finished is what a client's disconnect
// looks like.
import type { ServerResponse } from 'node:http';

/** Aborted when the connection closes before the response has been sent. */
export function clientGone(res: ServerResponse): AbortSignal {
  const gone = new AbortController();
  if (res.destroyed || res.socket?.destroyed) gone.abort();
  else res.once('close', () => (res.writableFinished ? undefined : gone.abort()));
  return gone.signal;
}

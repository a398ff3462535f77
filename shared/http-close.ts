// Closing an HTTP server at once. A request held when the server stops (a long poll, an event
// stream) is ended by its handler, but server.close() then still waits for every connection to
// go: a keep-alive connection left idle, or one whose request a client abandoned, can hold it for
// a minute. Idle connections are closed as they appear; after `graceMs` (for answers being
// written, uploads finishing) every connection left is closed.
import type { Server } from 'node:http';

export async function closeServerNow(server: Server, close: () => Promise<void>, graceMs = 1000): Promise<void> {
  server.closeIdleConnections();
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const all = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await close();
  } finally {
    clearInterval(idle);
    clearTimeout(all);
  }
}

// A loopback TCP proxy that makes a device hang. Bytes pass both ways until a connection's
// request starts with `stallOn` (e.g. "POST /api/system/OTA"); that connection then forwards only
// `passBytes` more bytes of the request and stops — it stops reading from the client too, so the
// sender feels the back-pressure of a device that stopped answering mid-upload — and it never
// answers. With `hangAfterStall`, every later connection is accepted and then ignored, and open ones stop answering:
// the whole device hung, not only its upload.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface StallingProxy {
  url: string;
  /** Whether a connection stalled. */
  readonly stalled: boolean;
  /** Request bytes forwarded on the stalled connection before it stopped. */
  readonly forwarded: number;
  close(): Promise<void>;
}

export interface StallOptions {
  stallOn: string;
  /** Request bytes (headers included) forwarded on the stalling connection before it stops. */
  passBytes: number;
  hangAfterStall?: boolean;
}

export async function startStallingProxy(targetPort: number, opts: StallOptions): Promise<StallingProxy> {
  const sockets = new Set<Socket>();
  let stalled = false;
  let forwarded = 0;
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (stalled && opts.hangAfterStall) {
      client.pause(); // accepted, never read, never answered
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!stalling) client.destroy();
    });
    upstream.on('error', () => client.destroy());
    upstream.pipe(client);
    let stalling = false;
    let sent = 0;
    client.on('data', (chunk: Buffer) => {
      // A request on an idle kept-alive connection arrives as a fresh write, so a request line
      // starts a chunk (good enough for a test client that sends one request at a time).
      if (!stalling && !stalled && chunk.subarray(0, opts.stallOn.length).toString('latin1') === opts.stallOn) {
        stalled = stalling = true;
        upstream.unpipe(client);
      }
      if (!stalling && stalled && opts.hangAfterStall) {
        // A hung device answers on no connection, kept-alive ones opened before the stall included.
        upstream.unpipe(client);
        client.pause();
        return;
      }
      if (!stalling) {
        upstream.write(chunk);
        return;
      }
      const room = opts.passBytes - sent;
      if (room > 0) {
        upstream.write(chunk.subarray(0, room));
        sent += Math.min(room, chunk.length);
        forwarded = sent;
      }
      if (sent >= opts.passBytes) client.pause(); // the device stops reading: back-pressure
    });
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get stalled() {
      return stalled;
    },
    get forwarded() {
      return forwarded;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

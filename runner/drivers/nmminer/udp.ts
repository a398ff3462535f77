// UDP plumbing for NMMiner: a JSON datagram listener (telemetry on 12345, config reports on 12346)
// and the config push (12347, sent N times a short interval apart: the protocol has no ack).
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { sleep } from '../../../shared/sleep.js';

export interface Datagram {
  from: string;
  json: Record<string, unknown>;
  at: number;
}

/** Listens on one UDP port and emits every JSON object datagram as 'message'. */
export class JsonDatagramListener extends EventEmitter {
  private socket: Socket | undefined;
  private ready: Promise<void> | undefined;

  constructor(
    readonly address: string,
    readonly port: number,
  ) {
    super();
  }

  start(): Promise<void> {
    if (this.ready) return this.ready;
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket = socket;
    socket.on('message', (buf, rinfo) => {
      let json: unknown;
      try {
        json = JSON.parse(buf.toString('utf8').replace(/\0+$/, ''));
      } catch {
        return; // not ours, or garbled: ignore it as the real controllers do
      }
      if (json && typeof json === 'object' && !Array.isArray(json)) {
        this.emit('message', {
          from: rinfo.address,
          json: json as Record<string, unknown>,
          at: Date.now(),
        } satisfies Datagram);
      }
    });
    this.ready = new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.port, this.address, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.emit('socket-error', err));
        resolve();
      });
    });
    return this.ready;
  }

  /** The bound port (useful with port 0). */
  boundPort(): number | undefined {
    try {
      return this.socket?.address().port;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    this.ready = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      try {
        s.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

export interface PushOptions {
  host: string;
  port: number;
  repeat?: number;
  intervalMs?: number;
  broadcast?: boolean;
  signal?: AbortSignal;
}

/** Sends `payload` `repeat` times, `intervalMs` apart. */
export async function pushConfig(payload: Record<string, unknown>, opts: PushOptions): Promise<number> {
  const socket = createSocket({ type: 'udp4' });
  const buf = Buffer.from(JSON.stringify(payload));
  const repeat = opts.repeat ?? 10;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (opts.broadcast) socket.setBroadcast(true);
    for (let i = 0; i < repeat; i++) {
      await new Promise<void>((resolve, reject) =>
        socket.send(buf, opts.port, opts.host, (err) => (err ? reject(err) : resolve())),
      );
      if (i < repeat - 1) await sleep(opts.intervalMs ?? 100, opts.signal);
    }
    return repeat;
  } finally {
    socket.close();
  }
}

const shared = new Map<string, { listener: JsonDatagramListener; users: number }>();

/**
 * A listener shared by every driver in the process that listens on the same address and port (a
 * testbed with several NMMiners: they all broadcast to 12345). Call `release()` when done; the
 * socket closes with its last user.
 */
export async function acquireListener(
  address: string,
  port: number,
): Promise<{ listener: JsonDatagramListener; release: () => Promise<void> }> {
  const key = `${address}:${port}`;
  let entry = shared.get(key);
  if (!entry) {
    entry = { listener: new JsonDatagramListener(address, port), users: 0 };
    shared.set(key, entry);
  }
  entry.users++;
  const e = entry;
  try {
    await e.listener.start();
  } catch (err) {
    e.users--;
    if (e.users === 0) shared.delete(key);
    await e.listener.close();
    throw err;
  }
  let released = false;
  return {
    listener: e.listener,
    release: async () => {
      if (released) return;
      released = true;
      e.users--;
      if (e.users === 0) {
        shared.delete(key);
        await e.listener.close();
      }
    },
  };
}

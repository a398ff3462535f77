// Live updates for the web UI (server-sent events): each new reading, status change and fleet
// event, as it happens. A comment every 15 s keeps proxies from closing a quiet stream; shutdown
// ends every stream at once, so the daemon never waits on a browser.
import type { FastifyReply } from 'fastify';
import type { CollectorHandle, EventStore, MinerStatus } from '../types.js';
import { telemetryView } from './views.js';

export class EventStreams {
  private readonly open = new Set<() => void>();
  private closed = false;

  constructor(private readonly deps: { events: EventStore; collector?: CollectorHandle }) {}

  get count(): number {
    return this.open.size;
  }

  serve(reply: FastifyReply, filter: { miner?: string }): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    if (this.closed) {
      res.end();
      return;
    }
    const send = (event: string, data: unknown) => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const wanted = (miner: string | null) => filter.miner === undefined || miner === filter.miner;
    const lastStatus = new Map<string, MinerStatus>();
    const offEvents = this.deps.events.subscribe((e) => {
      if (wanted(e.minerId)) send('event', e);
    });
    const offReadings =
      this.deps.collector?.onReading((minerId, t, status) => {
        if (!wanted(minerId)) return;
        if (lastStatus.get(minerId) !== status) {
          lastStatus.set(minerId, status);
          send('status', { miner: minerId, status, at: t.at });
        }
        send('reading', { miner: minerId, status, telemetry: telemetryView(t) });
      }) ?? (() => {});
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    keepAlive.unref();
    const end = () => {
      clearInterval(keepAlive);
      offEvents();
      offReadings();
      this.open.delete(end);
      if (!res.writableEnded) res.end();
    };
    this.open.add(end);
    // The response's close, not the request's: see shared/client-gone.ts.
    res.on('close', end);
    res.write('retry: 2000\n\n');
    send('hello', { miner: filter.miner ?? null, at: new Date().toISOString() });
  }

  /** Ends every stream now (shutdown). */
  closeAll(): void {
    this.closed = true;
    for (const end of [...this.open]) end();
  }
}

// The events table: online/offline, mode and pool changes (who asked), drift, refusals, errors.
// Subscribers (SSE, MQTT) hear every event; one that cannot be stored (disk full) is still
// published and logged, so a write failure never goes unheard.
import type Database from 'better-sqlite3';
import { rootLogger, type Logger } from '../../shared/log.js';
import type { EventStore, FleetEvent, FleetEventKind, NewFleetEvent } from '../types.js';

interface EventRow {
  id: number;
  at: string;
  miner_id: string | null;
  kind: string;
  level: FleetEvent['level'];
  message: string;
  actor: string | null;
  data: string | null;
}

function toEvent(r: EventRow): FleetEvent {
  return {
    id: r.id,
    at: r.at,
    minerId: r.miner_id,
    kind: r.kind as FleetEventKind,
    level: r.level,
    message: r.message,
    actor: r.actor,
    data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
  };
}

export class SqliteEventStore implements EventStore {
  private readonly listeners = new Set<(e: FleetEvent) => void>();
  private readonly insert: Database.Statement;
  private readonly log: Logger;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly now: () => number = Date.now,
    log?: Logger,
  ) {
    this.log = (log ?? rootLogger()).child({ component: 'fleet-events' });
    this.insert = sqlite.prepare(
      'INSERT INTO events (at, miner_id, kind, level, message, actor, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
  }

  append(e: NewFleetEvent): FleetEvent {
    const event: FleetEvent = {
      id: 0,
      at: new Date(this.now()).toISOString(),
      minerId: e.minerId ?? null,
      kind: e.kind,
      level: e.level ?? 'info',
      message: e.message,
      actor: e.actor ?? null,
      data: e.data ?? null,
    };
    try {
      const r = this.insert.run(
        event.at,
        event.minerId,
        event.kind,
        event.level,
        event.message,
        event.actor,
        event.data === null ? null : JSON.stringify(event.data),
      );
      event.id = Number(r.lastInsertRowid);
    } catch (err) {
      // Published anyway (id 0): the live feed and the log still carry it.
      this.log.error({ err, event }, 'cannot store an event');
    }
    for (const fn of [...this.listeners]) {
      try {
        fn(event);
      } catch (err) {
        this.log.warn({ err }, 'an event subscriber failed');
      }
    }
    return event;
  }

  recent(opts: { limit?: number; minerId?: string; kinds?: FleetEventKind[]; beforeId?: number } = {}): FleetEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (opts.minerId !== undefined) {
      where.push('miner_id = ?');
      args.push(opts.minerId);
    }
    if (opts.kinds && opts.kinds.length > 0) {
      where.push(`kind IN (${opts.kinds.map(() => '?').join(', ')})`);
      args.push(...opts.kinds);
    }
    if (opts.beforeId !== undefined) {
      where.push('id < ?');
      args.push(opts.beforeId);
    }
    const limit = Math.max(1, Math.min(opts.limit ?? 100, 10_000));
    const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`;
    return (this.sqlite.prepare(sql).all(...args) as EventRow[]).map(toEvent);
  }

  subscribe(fn: (e: FleetEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

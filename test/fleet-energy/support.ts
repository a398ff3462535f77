// Test doubles for the fleet stores the energy and automation parts use (fleet/types.ts).
import type { EventStore, FleetEvent, FleetEventKind, HistoryQuery, HistoryResult, HistoryStore, NewFleetEvent, SampleRow } from '../../fleet/types.js';

export class MemoryEvents implements EventStore {
  list: FleetEvent[] = [];
  private subs = new Set<(e: FleetEvent) => void>();
  append(e: NewFleetEvent): FleetEvent {
    const ev: FleetEvent = {
      id: this.list.length + 1,
      at: new Date().toISOString(),
      minerId: e.minerId ?? null,
      kind: e.kind,
      level: e.level ?? 'info',
      message: e.message,
      actor: e.actor ?? null,
      data: e.data ?? null,
    };
    this.list.push(ev);
    for (const s of this.subs) s(ev);
    return ev;
  }
  recent(opts: { limit?: number; minerId?: string; kinds?: FleetEventKind[] } = {}): FleetEvent[] {
    return this.list
      .filter((e) => (!opts.minerId || e.minerId === opts.minerId) && (!opts.kinds || opts.kinds.includes(e.kind)))
      .slice(-(opts.limit ?? 100))
      .reverse();
  }
  subscribe(fn: (e: FleetEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
  rules(): FleetEvent[] {
    return this.list.filter((e) => e.kind === 'rule');
  }
}

/** A history that answers queries from fixed points (one step for all), and latest() from a map. */
export class FixedHistory implements HistoryStore {
  latestRows = new Map<string, SampleRow>();
  constructor(public points: Map<string, HistoryResult>) {}
  insert(): void {}
  query(q: HistoryQuery): HistoryResult {
    const r = this.points.get(q.minerId);
    if (!r) return { minerId: q.minerId, resolution: 'minute', stepMs: 60_000, points: [] };
    return { ...r, points: r.points.filter((p) => p.t + r.stepMs > q.from && p.t < q.to) };
  }
  latest(): Map<string, SampleRow> {
    return this.latestRows;
  }
}

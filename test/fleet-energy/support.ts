// Test doubles for the fleet stores the energy and automation parts use (fleet/types.ts), and the
// energy config the tests run on.
import type {
  EventStore,
  FleetEvent,
  FleetEventKind,
  HistoryQuery,
  HistoryResult,
  HistoryStore,
  NewFleetEvent,
  SampleRow,
} from '../../fleet/types.js';
import type { EnergyConfig } from '../../fleet/energy/types.js';

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

import type { MinerView } from '../../fleet/types.js';
import type { ActuationContext, ActuationResult, RuleActuator } from '../../fleet/automation/types.js';

export function minerView(id: string, extra: Partial<MinerView> = {}): MinerView {
  return {
    id,
    driver: 'axeos',
    address: 'http://127.0.0.1:1',
    options: {},
    tags: [],
    source: 'config',
    status: 'online',
    missed: 0,
    lastSeenAt: null,
    last: null,
    lastError: null,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    model: 'Bitaxe Gamma',
    ...extra,
  };
}

export class FixedMiners {
  constructor(public miners: MinerView[]) {}
  list(): MinerView[] {
    return this.miners;
  }
}

/** Records every call; refuses what `refuse` says (e.g. a busy testbed's hold). */
export class FakeActuator implements RuleActuator {
  calls: string[] = [];
  holds = new Set<string>();
  refuse: (op: string, minerId: string) => string | undefined = () => undefined;
  modes(): readonly string[] {
    return ['eco', 'standard', 'turbo'];
  }
  private do(op: string, minerId: string, ctx: ActuationContext): ActuationResult {
    const why = this.refuse(op, minerId);
    this.calls.push(`${op} ${minerId} ${ctx.actor}${why ? ' REFUSED' : ''}`);
    return why ? { ok: false, reason: why } : { ok: true };
  }
  async hold(m: string, c: ActuationContext) {
    const r = this.do('hold', m, c);
    if (r.ok) this.holds.add(m);
    return r;
  }
  async release(m: string, c: ActuationContext) {
    this.holds.delete(m);
    return this.do('release', m, c);
  }
  /** set: keep() answers that the testbed's reservation is lost (not recorded in calls otherwise) */
  lose: string | undefined;
  async keep(m: string, c: ActuationContext): Promise<ActuationResult> {
    if (!this.lose) return { ok: true };
    this.holds.delete(m);
    this.calls.push(`keep ${m} ${c.actor}`);
    return { ok: false, reason: this.lose };
  }
  async setMode(m: string, mode: string, c: ActuationContext) {
    return this.do(`mode=${mode}`, m, c);
  }
  async pause(m: string, c: ActuationContext) {
    return this.do('pause', m, c);
  }
  async resume(m: string, c: ActuationContext) {
    return this.do('resume', m, c);
  }
  async switchPool(m: string, i: number, c: ActuationContext) {
    return this.do(`pool=${i}`, m, c);
  }
  async restart(m: string, c: ActuationContext) {
    return this.do('restart', m, c);
  }
  async setFan(m: string, p: number, c: ActuationContext) {
    return this.do(`fan=${p}`, m, c);
  }
}

/** Octopus Agile prices (product AGILE-24-10-01, region C) from `baseUrl`, fetched hourly, no backfill. */
export function octopusEnergyConfig(baseUrl: string): EnergyConfig {
  return {
    source: 'octopus',
    flatPrice: 30,
    fetchIntervalMs: 3_600_000,
    backfillMs: 0,
    octopus: { product: 'AGILE-24-10-01', region: 'C', baseUrl },
  };
}

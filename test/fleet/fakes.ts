// In-memory stand-ins for the fleet's stores and collector, for testing the exporters alone.
import type { Telemetry } from '../../runner/drivers/types.js';
import type {
  CollectorHandle,
  DesiredState,
  FleetEvent,
  MinerStatus,
  MinerView,
  NewFleetEvent,
} from '../../fleet/types.js';

export function telemetry(device: string, over: Partial<Telemetry> = {}): Telemetry {
  return {
    device,
    driver: 'axeos',
    at: new Date().toISOString(),
    online: true,
    hashrateGhs: 1200,
    expectedHashrateGhs: 1150,
    powerW: 18.5,
    efficiencyJth: 15.4,
    temperatures: { chip: 55.5, vr: 48 },
    fans: [{ name: 'fan0', rpm: 4200, percent: 60 }],
    sharesAccepted: 120,
    sharesRejected: 3,
    uptimeS: 3600,
    firmwareVersion: 'v2.4.0',
    paused: false,
    raw: {},
    ...over,
  };
}

export function minerView(id: string, over: Partial<MinerView> = {}): MinerView {
  const now = new Date().toISOString();
  return {
    id,
    driver: 'axeos',
    address: '127.0.0.1:1',
    options: {},
    model: 'Bitaxe Gamma',
    tags: [],
    source: 'config',
    status: 'online',
    missed: 0,
    lastSeenAt: Date.now(),
    last: telemetry(id),
    lastError: null,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

/** A MinerStore with only the reads the exporters use; `set` changes a miner as the collector would. */
export class FakeMiners {
  readonly miners = new Map<string, MinerView>();
  constructor(list: MinerView[] = []) {
    for (const m of list) this.miners.set(m.id, m);
  }
  list(): MinerView[] {
    return [...this.miners.values()];
  }
  get(id: string): MinerView | undefined {
    return this.miners.get(id);
  }
  set(id: string, patch: Partial<MinerView>): void {
    this.miners.set(id, { ...this.miners.get(id)!, ...patch });
  }
  add(): never {
    throw new Error('not in the fake');
  }
  update(): never {
    throw new Error('not in the fake');
  }
  remove(): never {
    throw new Error('not in the fake');
  }
  syncConfigMiners(): never {
    throw new Error('not in the fake');
  }
}

export class FakeEvents {
  private next = 1;
  private subs = new Set<(e: FleetEvent) => void>();
  readonly all: FleetEvent[] = [];
  append(n: NewFleetEvent): FleetEvent {
    const e: FleetEvent = {
      id: this.next++,
      at: new Date().toISOString(),
      minerId: n.minerId ?? null,
      kind: n.kind,
      level: n.level ?? 'info',
      message: n.message,
      actor: n.actor ?? null,
      data: n.data ?? null,
    };
    this.all.push(e);
    for (const s of this.subs) s(e);
    return e;
  }
  recent(): FleetEvent[] {
    return [...this.all].reverse();
  }
  subscribe(fn: (e: FleetEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
}

export class FakeDesired {
  readonly modes = new Map<string, string>();
  get(minerId: string): DesiredState | undefined {
    const mode = this.modes.get(minerId);
    return mode === undefined
      ? undefined
      : { minerId, mode, paused: null, poolIds: null, updatedAt: new Date().toISOString(), updatedBy: null };
  }
}

export class FakeCollector implements CollectorHandle {
  private subs = new Set<(minerId: string, t: Telemetry, status: MinerStatus) => void>();
  round = { lastRoundMs: 250 as number | null, rounds: 7, inFlight: 1 };
  emit(minerId: string, t: Telemetry, status: MinerStatus): void {
    for (const s of this.subs) s(minerId, t, status);
  }
  onReading(fn: (minerId: string, t: Telemetry, status: MinerStatus) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
  async pollNow(): Promise<Telemetry> {
    throw new Error('not in the fake');
  }
  reload(): void {}
  suspend(): void {}
  resume(): void {}
  stats() {
    return this.round;
  }
  async stop(): Promise<void> {}
}

// Energy used and what it cost: power × time from the history, each part priced at its slot's
// price (slots no source knows at the configured flat price, counted as estimated), summed per UK
// day and month, per miner and for the fleet; efficiency in J/TH over the same time.
import { SLOT_MS, londonDate } from '../../shared/london-time.js';
import type { HistoryResult, HistoryStore, MinerStore } from '../types.js';
import type { PriceStore } from './store.js';
import type { TimeRange } from './types.js';

export interface EnergyUse {
  kWh: number;
  /** pence */
  cost: number;
  /** the part of kWh priced at the flat fallback (no known slot) */
  estimatedKWh: number;
  /** J/TH over the samples with both power and hashrate */
  efficiencyJth: number | null;
}

export interface EnergyPeriod extends EnergyUse {
  /** YYYY-MM-DD (UK day) or YYYY-MM */
  period: string;
}

export interface MinerCost {
  minerId: string;
  total: EnergyUse;
  days: EnergyPeriod[];
  months: EnergyPeriod[];
}

export interface FleetCost {
  from: string;
  to: string;
  total: EnergyUse;
  days: EnergyPeriod[];
  months: EnergyPeriod[];
  miners: MinerCost[];
}

class Acc {
  wattMs = 0;
  cost = 0;
  estimatedWattMs = 0;
  effWattMs = 0;
  ghMs = 0;
  /** `ms` at `watts` (and `ghs` when hashing), priced at `price` p/kWh; `estimated` when no slot is known. */
  addPart(watts: number, ghs: number | null, ms: number, price: number, estimated: boolean): void {
    const wms = watts * ms;
    this.wattMs += wms;
    this.cost += (wms / 3.6e9) * price;
    if (estimated) this.estimatedWattMs += wms;
    if (ghs !== null && ghs > 0) {
      this.effWattMs += wms;
      this.ghMs += ghs * ms;
    }
  }
  add(o: Acc): void {
    this.wattMs += o.wattMs;
    this.cost += o.cost;
    this.estimatedWattMs += o.estimatedWattMs;
    this.effWattMs += o.effWattMs;
    this.ghMs += o.ghMs;
  }
  use(): EnergyUse {
    const r = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
    // J/TH = (W·ms) / (GH/s·ms / 1000)
    const eff = this.ghMs > 0 ? r(this.effWattMs / (this.ghMs / 1000), 2) : null;
    return {
      kWh: r(this.wattMs / 3.6e9, 6),
      cost: r(this.cost, 4),
      estimatedKWh: r(this.estimatedWattMs / 3.6e9, 6),
      efficiencyJth: eff,
    };
  }
}

function group(map: Map<string, Acc>, key: string): Acc {
  let a = map.get(key);
  if (!a) map.set(key, (a = new Acc()));
  return a;
}

function periods(map: Map<string, Acc>): EnergyPeriod[] {
  return [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([period, a]) => ({ period, ...a.use() }));
}

/** The history step used for a range: minute roll-ups up to two days, half-hours beyond. */
export function stepFor(range: TimeRange): number {
  return range.to - range.from <= 2 * 86_400_000 ? 60_000 : SLOT_MS;
}

export class CostCalculator {
  constructor(
    private readonly history: Pick<HistoryStore, 'query'>,
    private readonly prices: PriceStore,
    private readonly flatPrice: number,
  ) {}

  /** UK dates of slot starts, cached: a month's report asks for the same ~1,500 for every miner. */
  private readonly days = new Map<number, string>();
  private dayOf(slot: number): string {
    let d = this.days.get(slot);
    if (d === undefined) {
      if (this.days.size > 100_000) this.days.clear();
      this.days.set(slot, (d = londonDate(slot)));
    }
    return d;
  }

  private priceMap(range: TimeRange): Map<number, number> {
    return new Map(this.prices.range(range).map((s) => [s.start, s.priceIncVat]));
  }

  private minerAcc(minerId: string, range: TimeRange, priceOf: Map<number, number>) {
    const total = new Acc();
    const days = new Map<string, Acc>();
    for (const res of this.historyOf(minerId, range)) this.addPoints(res, range, priceOf, total, days);
    return { total, days };
  }

  /**
   * The miner's history over the range: minute roll-ups (or half-hours), and hour roll-ups for the
   * older part the minute ones no longer keep (retention prunes them first).
   */
  private historyOf(minerId: string, range: TimeRange): Array<HistoryResult & { cutAt?: number }> {
    const fine = this.history.query({ minerId, from: range.from, to: range.to, stepMs: stepFor(range) });
    const first = fine.points[0]?.t ?? range.to;
    if (first <= range.from + fine.stepMs) return [fine];
    const coarse = this.history.query({ minerId, from: range.from, to: first, stepMs: 3_600_000 });
    // An hour bucket reaching into the fine points' time is cut where they start.
    return [{ ...coarse, points: coarse.points.filter((p) => p.t < first), cutAt: first }, fine];
  }

  private addPoints(
    res: HistoryResult & { cutAt?: number },
    range: TimeRange,
    priceOf: Map<number, number>,
    total: Acc,
    days: Map<string, Acc>,
  ): void {
    for (const p of res.points) {
      const watts = p.powerW?.mean;
      if (watts === undefined || watts === null || !Number.isFinite(watts)) continue;
      const ghs = p.hashrateGhs?.mean ?? null;
      const a = Math.max(p.t, range.from);
      const b = Math.min(p.t + res.stepMs, range.to, res.cutAt ?? Infinity);
      // Split the point's interval at slot boundaries: each part at its own slot's price.
      for (let s = Math.floor(a / SLOT_MS) * SLOT_MS; s < b; s += SLOT_MS) {
        const ms = Math.min(b, s + SLOT_MS) - Math.max(a, s);
        if (ms <= 0) continue;
        const known = priceOf.get(s);
        const price = known ?? this.flatPrice;
        total.addPart(watts, ghs, ms, price, known === undefined);
        group(days, this.dayOf(s)).addPart(watts, ghs, ms, price, known === undefined);
      }
    }
  }

  miner(minerId: string, range: TimeRange): MinerCost {
    const { total, days } = this.minerAcc(minerId, range, this.priceMap(range));
    return { minerId, total: total.use(), days: periods(days), months: periods(byMonth(days)) };
  }

  fleet(miners: Pick<MinerStore, 'list'>, range: TimeRange): FleetCost {
    const priceOf = this.priceMap(range);
    const total = new Acc();
    const days = new Map<string, Acc>();
    const out: MinerCost[] = [];
    for (const m of miners.list()) {
      const r = this.minerAcc(m.id, range, priceOf);
      total.add(r.total);
      for (const [k, a] of r.days) group(days, k).add(a);
      out.push({ minerId: m.id, total: r.total.use(), days: periods(r.days), months: periods(byMonth(r.days)) });
    }
    return {
      from: new Date(range.from).toISOString(),
      to: new Date(range.to).toISOString(),
      total: total.use(),
      days: periods(days),
      months: periods(byMonth(days)),
      miners: out,
    };
  }
}

function byMonth(days: Map<string, Acc>): Map<string, Acc> {
  const months = new Map<string, Acc>();
  for (const [d, a] of days) group(months, d.slice(0, 7)).add(a);
  return months;
}

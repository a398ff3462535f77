// The computed price sources (a flat price, a time-of-use table) and the factory that picks the
// configured one. The Octopus client is in octopus.ts.
import { SLOT_MS, londonMinuteOfDay } from '../../shared/london-time.js';
import { hhmmToMinutes } from './config.js';
import { OctopusClient } from './octopus.js';
import type { EnergyConfig, PriceSlot, PriceSource, TimeRange, TouBand } from './types.js';

function slotsOf(range: TimeRange, price: (start: number) => number, source: string): PriceSlot[] {
  const out: PriceSlot[] = [];
  for (let s = Math.floor(range.from / SLOT_MS) * SLOT_MS; s < range.to; s += SLOT_MS) {
    out.push({ start: s, end: s + SLOT_MS, priceIncVat: price(s), priceExcVat: null, source });
  }
  return out;
}

export class FlatPriceSource implements PriceSource {
  readonly id = 'flat';
  readonly computed = true;
  constructor(readonly price: number) {}
  async fetch(range: TimeRange): Promise<PriceSlot[]> {
    return slotsOf(range, () => this.price, this.id);
  }
}

/** Bands by UK local time of day; a slot outside every band costs the fallback price. */
export class TimeOfUseSource implements PriceSource {
  readonly id = 'tou';
  readonly computed = true;
  private readonly bands: Array<{ from: number; to: number; price: number }>;
  constructor(
    bands: TouBand[],
    readonly fallback: number,
  ) {
    this.bands = bands.map((b) => ({ from: hhmmToMinutes(b.from), to: hhmmToMinutes(b.to), price: b.price }));
  }
  priceAt(ms: number): number {
    const m = londonMinuteOfDay(ms);
    for (const b of this.bands) {
      const inside = b.from <= b.to ? m >= b.from && m < b.to : m >= b.from || m < b.to;
      if (inside) return b.price;
    }
    return this.fallback;
  }
  async fetch(range: TimeRange): Promise<PriceSlot[]> {
    return slotsOf(range, (s) => this.priceAt(s), this.id);
  }
}

export function createPriceSource(cfg: EnergyConfig): PriceSource {
  if (cfg.source === 'octopus' && cfg.octopus) return new OctopusClient(cfg.octopus);
  if (cfg.source === 'tou' && cfg.tou) return new TimeOfUseSource(cfg.tou, cfg.flatPrice);
  return new FlatPriceSource(cfg.flatPrice);
}

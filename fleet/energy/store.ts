// Prices in SQLite: the only writer of the prices and price_source_status tables. A slot fetched
// again replaces the old one (a source may correct a price); slots are never deleted by a failed
// fetch, so the last known prices keep serving while a source is down.
import { and, asc, gt, gte, lt, lte } from 'drizzle-orm';
import { SLOT_MS, slotStart } from '../../shared/london-time.js';
import type { EnergyDb } from './db/open.js';
import { prices, priceSourceStatus } from './db/schema.js';
import type { PriceSlot, TimeRange } from './types.js';

export interface SourceStatus {
  source: string;
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  lastError: string | null;
  stale: boolean;
}

export class PriceStore {
  constructor(
    private readonly edb: EnergyDb,
    private readonly flatPrice = 0,
  ) {}

  upsert(slots: PriceSlot[], fetchedAt: number): void {
    if (slots.length === 0) return;
    this.edb.sqlite.transaction(() => {
      for (const s of slots) {
        const row = {
          start: s.start,
          end: s.end,
          priceIncVat: s.priceIncVat,
          priceExcVat: s.priceExcVat,
          source: s.source,
          fetchedAt,
        };
        this.edb.db.insert(prices).values(row).onConflictDoUpdate({ target: prices.start, set: row }).run();
      }
    })();
  }

  /** Known slots overlapping [from, to), oldest first. */
  range(r: TimeRange): PriceSlot[] {
    return this.edb.db
      .select()
      .from(prices)
      .where(and(lt(prices.start, r.to), gt(prices.end, r.from)))
      .orderBy(asc(prices.start))
      .all()
      .map(toSlot);
  }

  /** The known slot holding `ms`, if any. */
  at(ms: number): PriceSlot | undefined {
    const row = this.edb.db
      .select()
      .from(prices)
      .where(and(lte(prices.start, ms), gt(prices.end, ms)))
      .get();
    return row ? toSlot(row) : undefined;
  }

  /** The first known slot starting after the one holding `ms`. */
  next(ms: number): PriceSlot | undefined {
    const row = this.edb.db
      .select()
      .from(prices)
      .where(gte(prices.start, slotStart(ms) + SLOT_MS))
      .orderBy(asc(prices.start))
      .limit(1)
      .get();
    return row ? toSlot(row) : undefined;
  }

  /** The price of `ms`: the known slot's, else the configured flat price (marked estimated). */
  priceAt(ms: number): { price: number; estimated: boolean; slot?: PriceSlot } {
    const slot = this.at(ms);
    return slot ? { price: slot.priceIncVat, estimated: false, slot } : { price: this.flatPrice, estimated: true };
  }

  /** The end of the known prices (ms), or null when none are stored. */
  knownUntil(): number | null {
    const row = this.edb.sqlite.prepare('SELECT max("end") AS e FROM prices').get() as { e: number | null };
    return row.e;
  }

  status(source: string): SourceStatus | undefined {
    const row = this.edb.db
      .select()
      .from(priceSourceStatus)
      .all()
      .find((r) => r.source === source);
    return row ? { ...row } : undefined;
  }

  setStatus(s: SourceStatus): void {
    this.edb.db
      .insert(priceSourceStatus)
      .values(s)
      .onConflictDoUpdate({ target: priceSourceStatus.source, set: s })
      .run();
  }
}

function toSlot(r: typeof prices.$inferSelect): PriceSlot {
  return { start: r.start, end: r.end, priceIncVat: r.priceIncVat, priceExcVat: r.priceExcVat, source: r.source };
}

// Evaluates one trigger at one instant for one miner. Price triggers read the known prices (a slot
// with no known price leaves the trigger as it was: rules never act on a guess); hysteresis makes
// a trigger that holds end only once the value is `hysteresis` back past the threshold.
import { hhmmToMinutes } from '../energy/config.js';
import type { PriceStore } from '../energy/store.js';
import { londonDayStart, londonMinuteOfDay, londonNextDayStart } from '../../shared/london-time.js';
import type { HistoryStore, MinerView, SampleRow } from '../types.js';
import { lastMatch, parseCron } from './cron.js';
import type { Conditions, Trigger } from './types.js';

export interface TriggerEval {
  holds: boolean;
  /** the value the trigger looked at (p/kWh, °C, GH/s, ms offline), null when none */
  value: number | null;
  reason: string;
}

export interface TriggerContext {
  now: number;
  prices: Pick<PriceStore, 'at' | 'range'>;
  history?: Pick<HistoryStore, 'query'>;
  miner?: Pick<MinerView, 'id' | 'status' | 'lastSeenAt' | 'last' | 'expectedHashrateGhs'>;
  latest?: SampleRow;
  /** whether the trigger held at the previous evaluation (for hysteresis) */
  wasHolding: boolean;
  hysteresis: number;
}

const p = (n: number) => `${Math.round(n * 100) / 100} p/kWh`;

function rank(ctx: TriggerContext, count: number, cheapest: boolean): TriggerEval {
  const slot = ctx.prices.at(ctx.now);
  if (!slot) return { holds: ctx.wasHolding, value: null, reason: 'no price known for the current slot' };
  const day = ctx.prices.range({ from: londonDayStart(ctx.now), to: londonNextDayStart(ctx.now) });
  const sorted = [...day].sort(
    (a, b) => (cheapest ? a.priceIncVat - b.priceIncVat : b.priceIncVat - a.priceIncVat) || a.start - b.start,
  );
  const pos = sorted.findIndex((s) => s.start === slot.start);
  const holds = pos >= 0 && pos < count;
  return {
    holds,
    value: slot.priceIncVat,
    reason: `${p(slot.priceIncVat)} is the ${ordinal(pos + 1)} ${cheapest ? 'cheapest' : 'dearest'} of ${day.length} known slots today (wanted: ${count})`,
  };
}

function ordinal(n: number): string {
  const s =
    n % 100 >= 11 && n % 100 <= 13 ? 'th' : (({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th');
  return `${n}${s}`;
}

/** `value` above `limit` (with hysteresis when already holding), described. */
function above(value: number, limit: number, ctx: TriggerContext, what: (v: number) => string): TriggerEval {
  const edge = ctx.wasHolding ? limit - ctx.hysteresis : limit;
  const holds = value > edge;
  return {
    holds,
    value,
    reason: `${what(value)} ${holds ? '>' : '<='} ${what(edge)}${ctx.wasHolding && ctx.hysteresis ? ` (threshold ${what(limit)} less hysteresis)` : ''}`,
  };
}

function below(value: number, limit: number, ctx: TriggerContext, what: (v: number) => string): TriggerEval {
  const edge = ctx.wasHolding ? limit + ctx.hysteresis : limit;
  const holds = value < edge;
  return {
    holds,
    value,
    reason: `${what(value)} ${holds ? '<' : '>='} ${what(edge)}${ctx.wasHolding && ctx.hysteresis ? ` (threshold ${what(limit)} plus hysteresis)` : ''}`,
  };
}

export function evaluateTrigger(trigger: Trigger, ctx: TriggerContext): TriggerEval {
  switch (trigger.type) {
    case 'price_below':
    case 'price_above':
    case 'price_negative': {
      const slot = ctx.prices.at(ctx.now);
      if (!slot) return { holds: ctx.wasHolding, value: null, reason: 'no price known for the current slot' };
      if (trigger.type === 'price_above') return above(slot.priceIncVat, trigger.threshold, ctx, p);
      return below(slot.priceIncVat, trigger.type === 'price_below' ? trigger.threshold : 0, ctx, p);
    }
    case 'cheapest_slots':
      return rank(ctx, trigger.count, true);
    case 'dearest_slots':
      return rank(ctx, trigger.count, false);
    case 'schedule': {
      const m = lastMatch(parseCron(trigger.cron), ctx.now, trigger.durationMs);
      return m === null
        ? {
            holds: false,
            value: null,
            reason: `"${trigger.cron}" has not matched in the last ${Math.round(trigger.durationMs / 60_000)} min`,
          }
        : { holds: true, value: m, reason: `"${trigger.cron}" matched at ${new Date(m).toISOString()}` };
    }
    case 'temperature_above': {
      const temps = ctx.latest?.temperatures ?? ctx.miner?.last?.temperatures ?? {};
      const entries = Object.entries(temps).filter(([k]) => !trigger.sensor || k === trigger.sensor);
      if (entries.length === 0)
        return {
          holds: ctx.wasHolding,
          value: null,
          reason: trigger.sensor ? `no "${trigger.sensor}" temperature reading` : 'no temperature reading',
        };
      const [sensor, t] = entries.reduce((a, b) => (b[1] > a[1] ? b : a));
      return above(t, trigger.limit, ctx, (v) => `${sensor} ${Math.round(v * 10) / 10} °C`);
    }
    case 'hashrate_below': {
      const expected = ctx.miner?.expectedHashrateGhs ?? ctx.miner?.last?.expectedHashrateGhs ?? null;
      if (!expected || !ctx.history || !ctx.miner)
        return { holds: false, value: null, reason: 'no expected hashrate known for this miner' };
      const floor = (expected * trigger.percent) / 100;
      const from = ctx.now - trigger.forMs;
      const res = ctx.history.query({ minerId: ctx.miner.id, from, to: ctx.now, stepMs: 60_000 });
      const pts = res.points.filter((pt) => pt.hashrateGhs !== null);
      const latest = pts.at(-1)?.hashrateGhs?.mean ?? null;
      // Held for the whole duration: readings from its start on, every one below the floor.
      const covered = pts.length > 0 && pts[0]!.t <= from + res.stepMs;
      const allBelow = pts.every((pt) => pt.hashrateGhs!.max < floor);
      const holds = covered && allBelow;
      return {
        holds,
        value: latest,
        reason: holds
          ? `below ${trigger.percent} % of ${expected} GH/s (${Math.round(floor)} GH/s) for ${Math.round(trigger.forMs / 60_000)} min`
          : !covered
            ? `readings do not cover the last ${Math.round(trigger.forMs / 60_000)} min`
            : `at or above ${Math.round(floor)} GH/s within the last ${Math.round(trigger.forMs / 60_000)} min`,
      };
    }
    case 'offline': {
      if (!ctx.miner) return { holds: false, value: null, reason: 'no miner' };
      if (ctx.miner.status !== 'offline') return { holds: false, value: 0, reason: `the miner is ${ctx.miner.status}` };
      const since = ctx.miner.lastSeenAt;
      const off = since === null ? null : ctx.now - since;
      const holds = off === null || off >= trigger.forMs;
      return {
        holds,
        value: off,
        reason:
          off === null
            ? 'offline, never seen'
            : `offline for ${Math.round(off / 60_000)} min (limit ${Math.round(trigger.forMs / 60_000)} min)`,
      };
    }
  }
}

export function inWindow(c: Conditions, now: number): boolean {
  if (!c.window) return true;
  const m = londonMinuteOfDay(now);
  const a = hhmmToMinutes(c.window.from);
  const b = hhmmToMinutes(c.window.to);
  return a <= b ? m >= a && m < b : m >= a || m < b;
}

export function isPriceTrigger(t: Trigger): boolean {
  return ['price_below', 'price_above', 'price_negative', 'cheapest_slots', 'dearest_slots'].includes(t.type);
}

// Dry-run: what a rule would do now (per miner, with the priorities of the saved rules), and over
// the known price timeline (price and schedule triggers: each slot or minute stepped through with
// the rule's hysteresis, cooldown and window), without acting.
import { SLOT_MS } from '../../shared/london-time.js';
import type { PriceStore } from '../energy/store.js';
import type { MinerView } from '../types.js';
import { TRIGGER_TYPES } from './catalog.js';
import { cronMatches, lastMatch, parseCron } from './cron.js';
import { describeAction, type RuleEngine } from './engine.js';
import type { RuleStore } from './store.js';
import { evaluateTrigger, inWindow } from './triggers.js';
import type { Rule } from './types.js';
import { selectMiners } from './validate.js';

export interface DryRunNow {
  miner: string;
  would: 'fire' | 'undo' | 'skip' | 'supersede' | 'keep' | 'nothing';
  holds: boolean;
  value: number | null;
  reason: string;
}

export interface DryRunStep {
  at: string;
  would: 'fire' | 'undo' | 'skip';
  action: string | null;
  value: number | null;
  reason: string;
}

export interface DryRunResult {
  rule: string;
  at: string;
  miners: string[];
  now: DryRunNow[];
  timeline: DryRunStep[];
  /** why the timeline is empty or partial */
  note: string | null;
}

export interface DryRunDeps {
  engine: RuleEngine;
  rules: RuleStore;
  miners: { list(): MinerView[] };
  prices: Pick<PriceStore, 'at' | 'range' | 'knownUntil'>;
  now: number;
}

/** `rule`: a saved rule (priorities of the others apply) or an unsaved one (id 0: judged alone). */
export function dryRun(rule: Rule, d: DryRunDeps): DryRunResult {
  const selected = selectMiners(rule.conditions, d.miners.list());
  const now: DryRunNow[] = [];
  const planned = rule.id > 0 ? d.engine.plan(d.now).decisions.filter((x) => x.rule.id === rule.id) : [];
  for (const m of selected) {
    const state = rule.id > 0 ? d.rules.state(rule.id, m.id) : { wanting: false, applied: false };
    const ev = evaluateTrigger(rule.trigger, {
      now: d.now,
      prices: d.prices,
      miner: m,
      wasHolding: state.wanting,
      hysteresis: rule.hysteresis,
    });
    const dec = planned.find((x) => x.minerId === m.id);
    let would: DryRunNow['would'];
    let reason = ev.reason;
    if (dec) {
      would = dec.kind === 'end' ? 'nothing' : dec.kind;
      reason = dec.reason;
    } else if (rule.id > 0) would = state.applied ? 'keep' : 'nothing';
    else would = ev.holds && inWindow(rule.conditions, d.now) ? 'fire' : 'nothing';
    if (would === 'fire' || would === 'undo')
      reason = `${would === 'fire' ? describeAction(rule.action) : 'undo'}: ${reason}`;
    now.push({ miner: m.id, would, holds: ev.holds, value: ev.value, reason });
  }
  const spec = TRIGGER_TYPES.find((t) => t.type === rule.trigger.type);
  let timeline: DryRunStep[] = [];
  let note: string | null = null;
  if (!spec?.timeline) note = `${rule.trigger.type} depends on each miner's live readings: only "now" can be shown`;
  else if (rule.trigger.type === 'schedule') timeline = scheduleTimeline(rule, d.now, d.now + 86_400_000);
  else {
    const until = d.prices.knownUntil();
    if (until === null || until <= d.now) note = 'no prices are known beyond now';
    else timeline = priceTimeline(rule, d, until);
  }
  return { rule: rule.name, at: new Date(d.now).toISOString(), miners: selected.map((m) => m.id), now, timeline, note };
}

class Sim {
  wanting = false;
  applied = false;
  lastChangeAt = -Infinity;
  coolingNoted = false;
  constructor(
    private readonly rule: Rule,
    private readonly out: DryRunStep[],
  ) {}
  step(t: number, holds: boolean, value: number | null, reason: string): void {
    const wanting = holds && inWindow(this.rule.conditions, t);
    this.wanting = holds;
    if (wanting && !this.applied) {
      if (t < this.lastChangeAt + this.rule.cooldownMs) {
        if (!this.coolingNoted)
          this.out.push({
            at: new Date(t).toISOString(),
            would: 'skip',
            action: null,
            value,
            reason: `${reason}; cooling down`,
          });
        this.coolingNoted = true;
        return;
      }
      this.out.push({
        at: new Date(t).toISOString(),
        would: 'fire',
        action: describeAction(this.rule.action),
        value,
        reason,
      });
      this.applied = true;
      this.lastChangeAt = t;
      this.coolingNoted = false;
    } else if (!wanting && this.applied) {
      this.applied = false;
      if (this.rule.until) {
        this.out.push({
          at: new Date(t).toISOString(),
          would: 'undo',
          action: this.rule.undoAction ? describeAction(this.rule.undoAction) : 'undo',
          value,
          reason,
        });
        this.lastChangeAt = t;
      }
    }
  }
}

function priceTimeline(rule: Rule, d: DryRunDeps, until: number): DryRunStep[] {
  const out: DryRunStep[] = [];
  const sim = new Sim(rule, out);
  for (let t = Math.floor(d.now / SLOT_MS) * SLOT_MS; t < until; t += SLOT_MS) {
    const at = Math.max(t, d.now);
    const ev = evaluateTrigger(rule.trigger, {
      now: at,
      prices: d.prices,
      wasHolding: sim.wanting,
      hysteresis: rule.hysteresis,
    });
    sim.step(at, ev.holds, ev.value, ev.reason);
  }
  return out;
}

function scheduleTimeline(rule: Rule, from: number, to: number): DryRunStep[] {
  if (rule.trigger.type !== 'schedule') return [];
  const cron = parseCron(rule.trigger.cron);
  const duration = rule.trigger.durationMs;
  const out: DryRunStep[] = [];
  const sim = new Sim(rule, out);
  let last = lastMatch(cron, from, duration);
  for (let t = Math.floor(from / 60_000) * 60_000; t < to; t += 60_000) {
    if (cronMatches(cron, t)) last = t;
    const holds = last !== null && t - last < duration;
    sim.step(
      Math.max(t, from),
      holds,
      last,
      holds
        ? `"${rule.trigger.cron}" matched at ${new Date(last!).toISOString()}`
        : `"${rule.trigger.cron}" window over`,
    );
  }
  return out;
}

// The rule engine: on a schedule, at each slot boundary, and when told (new prices, new samples),
// it decides for every rule and miner — plan() — then acts — execute(). Every firing, undo, skip
// and refusal is a 'rule' event naming the rule, the miner, the trigger's value and the reason;
// a skip or refusal that repeats is reported once, not every tick.
//
// Priority: rules contend for a miner over one aspect (mode, power, pool, fan, restart). Among the
// rules whose trigger holds, the highest `priority` wins (ties: the older rule, lower id); the others
// are skipped with an event naming the winner. A winner that arrives while a lower rule holds the
// miner supersedes it (the lower rule's undo is not run: the winner's action replaces it).
import type { Logger } from 'pino';
import { describeError } from '../../shared/errors.js';
import { SLOT_MS } from '../../shared/london-time.js';
import { Waker } from '../../shared/sleep.js';
import type { PriceStore } from '../energy/store.js';
import type { DesiredStore, EventStore, HistoryStore, MinerStore, MinerView } from '../types.js';
import { TRIGGER_TYPES, aspectOf } from './catalog.js';
import type { Notifier } from './notify.js';
import type { RuleMinerState, RuleStore } from './store.js';
import { evaluateTrigger, inWindow, type TriggerEval } from './triggers.js';
import type { Action, ActuationContext, ActuationResult, Rule, RuleActuator } from './types.js';
import { selectMiners } from './validate.js';

export interface RuleEngineDeps {
  rules: RuleStore;
  miners: Pick<MinerStore, 'list'>;
  prices: Pick<PriceStore, 'at' | 'range'>;
  history?: Pick<HistoryStore, 'query' | 'latest'>;
  events: Pick<EventStore, 'append'>;
  actuator: RuleActuator;
  /** for the mode a set_mode rule restores when no undoAction is given */
  desired?: Pick<DesiredStore, 'get'>;
  notify?: Notifier;
  now?: () => number;
  log: Logger;
}

export type DecisionKind = 'fire' | 'undo' | 'skip' | 'supersede' | 'end' | 'keep';

export interface Decision {
  rule: Rule;
  minerId: string;
  kind: DecisionKind;
  /** the action fire or undo would run */
  action?: Action;
  trigger: TriggerEval;
  reason: string;
  /** what makes a repeated skip the same one (not reported twice) */
  note?: string;
}

interface Candidate {
  rule: Rule;
  miner: MinerView;
  state: RuleMinerState;
  ev: TriggerEval;
  wanting: boolean;
}

export interface EvaluationReport {
  at: string;
  decisions: Array<{
    rule: string;
    miner: string;
    kind: DecisionKind | 'refused' | 'lost';
    value: number | null;
    reason: string;
  }>;
}

export function describeAction(a: Action): string {
  switch (a.type) {
    case 'set_mode':
      return `set mode ${a.mode}`;
    case 'switch_pool':
      return `switch to pool #${a.index}`;
    case 'set_fan':
      return `set fan ${a.percent} %`;
    case 'notify':
      return `notify ${a.url}`;
    default:
      return a.type;
  }
}

/** One evaluation reads the same few slots for every miner: from SQLite once. */
function memoPrices(p: Pick<PriceStore, 'at' | 'range'>): Pick<PriceStore, 'at' | 'range'> {
  const at = new Map<number, ReturnType<PriceStore['at']>>();
  const range = new Map<string, ReturnType<PriceStore['range']>>();
  return {
    at: (ms) => {
      if (!at.has(ms)) at.set(ms, p.at(ms));
      return at.get(ms);
    },
    range: (r) => {
      const k = `${r.from}|${r.to}`;
      if (!range.has(k)) range.set(k, p.range(r));
      return range.get(k)!;
    },
  };
}

export class RuleEngine {
  private readonly now: () => number;
  private readonly waker = new Waker();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: RuleEngineDeps) {
    this.now = d.now ?? Date.now;
  }

  /** What every rule would do now, without acting (also the first half of evaluate). */
  plan(now = this.now()): { decisions: Decision[]; states: Map<string, RuleMinerState>; before: Map<string, string> } {
    const miners = this.d.miners.list();
    const byId = new Map(miners.map((m) => [m.id, m]));
    const latest = this.d.history?.latest() ?? new Map();
    const stored = new Map(this.d.rules.states().map((s) => [`${s.ruleId}|${s.minerId}`, s]));
    const groups = new Map<string, Candidate[]>();
    const prices = memoPrices(this.d.prices);
    for (const rule of this.d.rules.list()) {
      const selected = new Set(rule.enabled ? selectMiners(rule.conditions, miners) : []);
      const ids = new Set([...selected].map((m) => m.id));
      // Price and schedule triggers are the same for every miner (given the hysteresis state).
      const shared = !TRIGGER_TYPES.find((x) => x.type === rule.trigger.type)?.perMiner;
      const sharedEval = new Map<boolean, TriggerEval>();
      for (const s of stored.values()) if (s.ruleId === rule.id && s.applied && byId.has(s.minerId)) ids.add(s.minerId);
      const windowOpen = inWindow(rule.conditions, now);
      for (const id of ids) {
        const miner = byId.get(id)!;
        const state = stored.get(`${rule.id}|${id}`) ?? {
          ruleId: rule.id,
          minerId: id,
          wanting: false,
          applied: false,
          lastChangeAt: null,
          undo: null,
          lastNote: null,
        };
        let ev: TriggerEval;
        if (!rule.enabled) ev = { holds: false, value: null, reason: 'the rule is disabled' };
        else if (!selected.has(miner))
          ev = { holds: false, value: null, reason: 'the rule no longer selects this miner' };
        else if (shared && sharedEval.has(state.wanting)) ev = sharedEval.get(state.wanting)!;
        else
          ev = evaluateTrigger(rule.trigger, {
            now,
            prices,
            history: this.d.history,
            miner,
            latest: latest.get(id),
            wasHolding: state.wanting,
            hysteresis: rule.hysteresis,
          });
        if (shared && rule.enabled && selected.has(miner)) sharedEval.set(state.wanting, ev);
        const wanting = ev.holds && windowOpen;
        if (ev.holds && !windowOpen)
          ev = {
            ...ev,
            reason: `${ev.reason}; outside the window ${rule.conditions.window!.from}–${rule.conditions.window!.to}`,
          };
        const key = `${id}|${aspectOf(rule.action.type, rule.id)}`;
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key)!.push({ rule, miner, state, ev, wanting });
      }
    }
    const decisions: Decision[] = [];
    const states = new Map<string, RuleMinerState>();
    const before = new Map<string, string>();
    for (const group of groups.values()) {
      const contenders = group
        .filter((c) => c.wanting)
        .sort((a, b) => b.rule.priority - a.rule.priority || a.rule.id - b.rule.id);
      const winner = contenders[0];
      for (const c of group) {
        const next: RuleMinerState = { ...c.state, wanting: c.wanting };
        states.set(`${c.rule.id}|${c.miner.id}`, next);
        before.set(`${c.rule.id}|${c.miner.id}`, JSON.stringify(c.state));
        const base = { rule: c.rule, minerId: c.miner.id, trigger: c.ev };
        if (c === winner) {
          if (c.state.applied) {
            if (c.miner.testbed !== undefined && c.rule.action.type !== 'notify')
              decisions.push({ ...base, kind: 'keep', reason: c.ev.reason });
            continue;
          }
          const cooldownEnds = (c.state.lastChangeAt ?? -Infinity) + c.rule.cooldownMs;
          if (now < cooldownEnds) {
            decisions.push({
              ...base,
              kind: 'skip',
              reason: `${c.ev.reason}; cooling down until ${new Date(cooldownEnds).toISOString()}`,
              note: 'skip:cooldown',
            });
          } else {
            decisions.push({ ...base, kind: 'fire', action: c.rule.action, reason: c.ev.reason });
          }
        } else if (c.wanting) {
          const w = winner!.rule;
          const why = `rule "${w.name}" (priority ${w.priority}) wins this miner over "${c.rule.name}" (priority ${c.rule.priority})`;
          if (c.state.applied) decisions.push({ ...base, kind: 'supersede', reason: why });
          else decisions.push({ ...base, kind: 'skip', reason: why, note: `skip:lost:${w.id}` });
        } else {
          next.lastNote = null;
          if (!c.state.applied) continue;
          if (!c.rule.until) decisions.push({ ...base, kind: 'end', reason: c.ev.reason });
          else if (winner)
            decisions.push({
              ...base,
              kind: 'supersede',
              reason: `rule "${winner.rule.name}" takes over as "${c.rule.name}" ends`,
            });
          else decisions.push({ ...base, kind: 'undo', action: c.state.undo ?? undefined, reason: c.ev.reason });
        }
      }
    }
    return { decisions, states, before };
  }

  /** One evaluation: plan, act, record. Calls never overlap. */
  evaluate(signal?: AbortSignal): Promise<EvaluationReport> {
    const run = this.chain.then(() => this.evaluateNow(signal));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async evaluateNow(signal?: AbortSignal): Promise<EvaluationReport> {
    const now = this.now();
    const { decisions, states, before } = this.plan(now);
    const miners = new Map(this.d.miners.list().map((m) => [m.id, m]));
    const report: EvaluationReport = { at: new Date(now).toISOString(), decisions: [] };
    const byMiner = new Map<string, Decision[]>();
    for (const dec of decisions) {
      if (!byMiner.has(dec.minerId)) byMiner.set(dec.minerId, []);
      byMiner.get(dec.minerId)!.push(dec);
    }
    // Miners in parallel; one miner's decisions in order (supersedes and undos before firings).
    const order: Record<DecisionKind, number> = { end: 0, supersede: 1, undo: 2, keep: 3, skip: 4, fire: 5 };
    await Promise.all(
      [...byMiner.entries()].map(async ([minerId, list]) => {
        for (const dec of list.sort((a, b) => order[a.kind] - order[b.kind])) {
          if (signal?.aborted) return;
          const state = states.get(`${dec.rule.id}|${minerId}`)!;
          const outcome = await this.execute(dec, miners.get(minerId)!, state, now, signal);
          if (outcome)
            report.decisions.push({
              rule: dec.rule.name,
              miner: minerId,
              kind: outcome,
              value: dec.trigger.value,
              reason: dec.reason,
            });
        }
      }),
    );
    // Only what changed is written: most miners' states stay as they were from one tick to the next.
    this.d.rules.saveStates(
      [...states.entries()].filter(([k, s]) => before.get(k) !== JSON.stringify(s)).map(([, s]) => s),
    );
    return report;
  }

  private ctx(rule: Rule, reason: string): ActuationContext {
    return {
      actor: `rule:${rule.name}`,
      rule: { id: rule.id, name: rule.name },
      reason: `rule "${rule.name}": ${reason}`.slice(0, 400),
    };
  }

  private event(
    dec: Decision,
    level: 'info' | 'warn',
    outcome: string,
    message: string,
    extra: Record<string, unknown> = {},
  ): void {
    this.d.events.append({
      kind: 'rule',
      level,
      minerId: dec.minerId,
      actor: `rule:${dec.rule.name}`,
      message: `rule "${dec.rule.name}" ${message}`,
      data: {
        rule: dec.rule.id,
        ruleName: dec.rule.name,
        outcome,
        trigger: dec.rule.trigger.type,
        value: dec.trigger.value,
        reason: dec.reason,
        ...extra,
      },
    });
  }

  /** Runs one decision, updating `state`; returns what happened, or null when nothing was reported. */
  private async execute(
    dec: Decision,
    miner: MinerView,
    state: RuleMinerState,
    now: number,
    signal?: AbortSignal,
  ): Promise<DecisionKind | 'refused' | 'lost' | null> {
    const ctx = this.ctx(dec.rule, dec.reason);
    const onTestbed = miner.testbed !== undefined && dec.rule.action.type !== 'notify';
    switch (dec.kind) {
      case 'skip':
        if (state.lastNote === dec.note) return null;
        state.lastNote = dec.note ?? null;
        this.event(dec, 'info', 'skipped', `skipped on ${miner.id}: ${dec.reason}`);
        return 'skip';
      case 'keep': {
        const keep = this.d.actuator.keep;
        if (!keep) return null;
        const r = await this.safely(() => keep.call(this.d.actuator, miner.id, ctx));
        if (r.ok) return null;
        state.applied = false;
        state.undo = null;
        this.event(
          dec,
          'warn',
          'lost',
          `lost its hold on ${miner.id}: ${r.reason}; testbed ${miner.testbed} is back to its baseline, and the rule takes it again when it can`,
          { refusal: r.reason },
        );
        return 'lost';
      }
      case 'end':
        state.applied = false;
        state.undo = null;
        return null;
      case 'supersede':
        state.applied = false;
        state.undo = null;
        if (onTestbed) await this.safely(() => this.d.actuator.release(miner.id, ctx));
        this.event(dec, 'info', 'superseded', `superseded on ${miner.id}: ${dec.reason}`);
        return 'supersede';
      case 'undo': {
        const r = onTestbed
          ? await this.safely(() => this.d.actuator.release(miner.id, ctx))
          : dec.action
            ? await this.run(dec.action, miner, dec, ctx, 'ended', signal)
            : ({ ok: true, message: 'nothing to undo' } as ActuationResult);
        if (!r.ok)
          return this.refused(dec, state, `undo ${dec.action ? describeAction(dec.action) : ''}`.trim(), r.reason);
        state.applied = false;
        state.undo = null;
        state.lastChangeAt = now;
        state.lastNote = null;
        this.event(
          dec,
          'info',
          'undone',
          `undone on ${miner.id}: ${onTestbed ? `testbed ${miner.testbed} released (its baseline restored)` : dec.action ? describeAction(dec.action) : 'nothing to undo'} — ${dec.reason}`,
        );
        return 'undo';
      }
      case 'fire': {
        const action = dec.action!;
        if (onTestbed) {
          const held = await this.safely(() => this.d.actuator.hold(miner.id, ctx));
          if (!held.ok) return this.refused(dec, state, `take testbed ${miner.testbed}`, held.reason);
        }
        const undo = dec.rule.until && !onTestbed ? this.undoFor(dec.rule, miner) : null;
        const r = await this.run(action, miner, dec, ctx, 'started', signal);
        if (!r.ok) {
          if (onTestbed) await this.safely(() => this.d.actuator.release(miner.id, ctx));
          return this.refused(dec, state, describeAction(action), r.reason);
        }
        state.applied = true;
        state.undo = undo;
        state.lastChangeAt = now;
        state.lastNote = null;
        this.event(
          dec,
          'info',
          'fired',
          `fired on ${miner.id}: ${describeAction(action)}${onTestbed ? ` (under a reservation of testbed ${miner.testbed})` : ''} — ${dec.reason}`,
          {
            ...(undo ? { undo } : {}),
            ...(r.message ? { answer: r.message } : {}),
          },
        );
        return 'fire';
      }
    }
  }

  private refused(dec: Decision, state: RuleMinerState, what: string, reason: string): 'refused' | null {
    const note = `refused:${reason}`;
    if (state.lastNote === note) return null;
    state.lastNote = note;
    this.event(dec, 'warn', 'refused', `refused on ${dec.minerId}: ${what}: ${reason}`, { refusal: reason });
    return 'refused';
  }

  private async safely(fn: () => Promise<ActuationResult>): Promise<ActuationResult> {
    try {
      return await fn();
    } catch (err) {
      return { ok: false, reason: describeError(err) };
    }
  }

  private undoFor(rule: Rule, miner: MinerView): Action | null {
    if (rule.undoAction) return rule.undoAction;
    switch (rule.action.type) {
      case 'set_mode':
        return { type: 'set_mode', mode: this.d.desired?.get(miner.id)?.mode ?? 'standard' };
      case 'pause':
        return { type: 'resume' };
      case 'resume':
        return { type: 'pause' };
      case 'switch_pool':
        return { type: 'switch_pool', index: 0 };
      case 'notify':
        return rule.action;
      default:
        return null;
    }
  }

  private run(
    action: Action,
    miner: MinerView,
    dec: Decision,
    ctx: ActuationContext,
    phase: 'started' | 'ended',
    signal?: AbortSignal,
  ): Promise<ActuationResult> {
    const a = this.d.actuator;
    return this.safely(async () => {
      switch (action.type) {
        case 'set_mode':
          return a.setMode(miner.id, action.mode, ctx);
        case 'pause':
          return a.pause(miner.id, ctx);
        case 'resume':
          return a.resume(miner.id, ctx);
        case 'switch_pool':
          return a.switchPool(miner.id, action.index, ctx);
        case 'restart':
          return a.restart(miner.id, ctx);
        case 'set_fan':
          return a.setFan(miner.id, action.percent, ctx);
        case 'notify': {
          if (!this.d.notify) return { ok: false, reason: 'no notifier configured' };
          await this.d.notify(
            action.url,
            action.headers ?? {},
            {
              rule: dec.rule.name,
              ruleId: dec.rule.id,
              miner: miner.id,
              phase,
              trigger: dec.rule.trigger,
              value: dec.trigger.value,
              reason: dec.reason,
              at: new Date(this.now()).toISOString(),
            },
            signal,
          );
          return { ok: true };
        }
      }
    });
  }

  /** Evaluates every `intervalMs` and just after each slot boundary, and when woken, until `signal` aborts. */
  async start(signal: AbortSignal, intervalMs = 60_000): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.evaluate(signal);
      } catch (err) {
        this.d.log.error({ err: describeError(err) }, 'rule evaluation failed');
      }
      const now = this.now();
      const toBoundary = Math.floor(now / SLOT_MS) * SLOT_MS + SLOT_MS - now + 1000;
      await this.waker.wait(Math.min(intervalMs, toBoundary), signal);
    }
  }

  /** Evaluate soon (new prices, new readings, a rule edited). */
  wake(): void {
    this.waker.wake();
  }

  /** Undoes what a rule holds (before it is deleted or disabled), then forgets it. */
  async retire(ruleId: number): Promise<void> {
    const rule = this.d.rules.get(ruleId);
    if (!rule) return;
    const miners = new Map(this.d.miners.list().map((m) => [m.id, m]));
    const states: RuleMinerState[] = [];
    for (const s of this.d.rules.states(ruleId)) {
      const miner = miners.get(s.minerId);
      if (!s.applied || !miner || !rule.until) continue;
      const dec: Decision = {
        rule,
        minerId: s.minerId,
        kind: 'undo',
        action: s.undo ?? undefined,
        trigger: { holds: false, value: null, reason: 'the rule is removed' },
        reason: 'the rule is removed',
      };
      await this.execute(dec, miner, s, this.now());
      states.push(s);
    }
    this.d.rules.saveStates(states);
  }
}

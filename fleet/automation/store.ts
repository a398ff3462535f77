// Rules and the engine's per-miner memory in SQLite (energy.sqlite): the only writer of the rules
// and rule_state tables. Rules arrive here already checked (validate.ts).
import { and, asc, eq } from 'drizzle-orm';
import { MvmError } from '../../shared/errors.js';
import type { EnergyDb } from '../energy/db/open.js';
import { rules, ruleState } from './schema.js';
import type { Action, Rule, RuleInput } from './types.js';

export interface RuleMinerState {
  ruleId: number;
  minerId: string;
  wanting: boolean;
  applied: boolean;
  lastChangeAt: number | null;
  undo: Action | null;
  lastNote: string | null;
}

function toRule(r: typeof rules.$inferSelect): Rule {
  return {
    id: r.id,
    name: r.name,
    enabled: r.enabled,
    priority: r.priority,
    trigger: JSON.parse(r.trigger),
    conditions: JSON.parse(r.conditions),
    action: JSON.parse(r.action),
    undoAction: r.undoAction ? JSON.parse(r.undoAction) : null,
    until: r.until,
    cooldownMs: r.cooldownMs,
    hysteresis: r.hysteresis,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    updatedBy: r.updatedBy,
  };
}

function toRow(input: RuleInput, actor: string) {
  return {
    name: input.name,
    enabled: input.enabled ?? true,
    priority: input.priority ?? 0,
    trigger: JSON.stringify(input.trigger),
    conditions: JSON.stringify(input.conditions ?? {}),
    action: JSON.stringify(input.action),
    undoAction: input.undoAction ? JSON.stringify(input.undoAction) : null,
    until: input.until ?? false,
    cooldownMs: input.cooldownMs ?? 0,
    hysteresis: input.hysteresis ?? 0,
    updatedBy: actor,
  };
}

export class RuleStore {
  constructor(
    private readonly edb: EnergyDb,
    private readonly clock: () => number = Date.now,
  ) {}

  list(): Rule[] {
    return this.edb.db.select().from(rules).orderBy(asc(rules.id)).all().map(toRule);
  }

  get(id: number): Rule | undefined {
    const r = this.edb.db.select().from(rules).where(eq(rules.id, id)).get();
    return r ? toRule(r) : undefined;
  }

  private mustGet(id: number): Rule {
    const r = this.get(id);
    if (!r) throw new MvmError('NOT_FOUND', `no rule ${id}`, { hint: 'GET /api/automation/ lists the rules' });
    return r;
  }

  private nameTaken(name: string, exceptId?: number): void {
    const other = this.edb.db.select().from(rules).where(eq(rules.name, name)).get();
    if (other && other.id !== exceptId)
      throw new MvmError('CONFLICT', `a rule named "${name}" exists (id ${other.id})`, {
        hint: 'choose another name, or edit that rule',
      });
  }

  add(input: RuleInput, actor: string): Rule {
    this.nameTaken(input.name);
    const now = new Date(this.clock()).toISOString();
    const row = this.edb.db
      .insert(rules)
      .values({ ...toRow(input, actor), createdAt: now, updatedAt: now })
      .returning()
      .get();
    return toRule(row);
  }

  update(id: number, input: RuleInput, actor: string): Rule {
    this.mustGet(id);
    this.nameTaken(input.name, id);
    const row = this.edb.db
      .update(rules)
      .set({ ...toRow(input, actor), updatedAt: new Date(this.clock()).toISOString() })
      .where(eq(rules.id, id))
      .returning()
      .get();
    return toRule(row);
  }

  remove(id: number): void {
    this.mustGet(id);
    this.edb.db.delete(rules).where(eq(rules.id, id)).run();
  }

  states(ruleId?: number): RuleMinerState[] {
    const q = this.edb.db.select().from(ruleState);
    const rows = ruleId === undefined ? q.all() : q.where(eq(ruleState.ruleId, ruleId)).all();
    return rows.map((r) => ({ ...r, undo: r.undo ? (JSON.parse(r.undo) as Action) : null }));
  }

  state(ruleId: number, minerId: string): RuleMinerState {
    const r = this.edb.db
      .select()
      .from(ruleState)
      .where(and(eq(ruleState.ruleId, ruleId), eq(ruleState.minerId, minerId)))
      .get();
    return r
      ? { ...r, undo: r.undo ? (JSON.parse(r.undo) as Action) : null }
      : { ruleId, minerId, wanting: false, applied: false, lastChangeAt: null, undo: null, lastNote: null };
  }

  saveStates(states: RuleMinerState[]): void {
    this.edb.sqlite.transaction(() => {
      for (const s of states) {
        const row = { ...s, undo: s.undo ? JSON.stringify(s.undo) : null };
        this.edb.db
          .insert(ruleState)
          .values(row)
          .onConflictDoUpdate({ target: [ruleState.ruleId, ruleState.minerId], set: row })
          .run();
      }
    })();
  }
}

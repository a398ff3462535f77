// Automation rules (data, edited through the API) and the engine's memory per rule and miner, so a
// restart neither fires a rule twice nor forgets to undo one.
import { sql } from 'drizzle-orm';
import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const rules = sqliteTable('rules', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  /** higher wins when two rules want one miner; ties go to the older rule (lower id) */
  priority: integer('priority').notNull().default(0),
  /** JSON: Trigger */
  trigger: text('trigger').notNull(),
  /** JSON: Conditions */
  conditions: text('conditions').notNull(),
  /** JSON: Action */
  action: text('action').notNull(),
  /** JSON: Action to run when the trigger ends (with `until`), else derived from the action */
  undoAction: text('undo_action'),
  until: integer('until', { mode: 'boolean' }).notNull().default(false),
  cooldownMs: integer('cooldown_ms').notNull().default(0),
  hysteresis: real('hysteresis').notNull().default(0),
  createdAt: text('created_at')
    .notNull()
    .default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  updatedAt: text('updated_at')
    .notNull()
    .default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`),
  updatedBy: text('updated_by'),
});

export const ruleState = sqliteTable(
  'rule_state',
  {
    ruleId: integer('rule_id')
      .notNull()
      .references(() => rules.id, { onDelete: 'cascade' }),
    minerId: text('miner_id').notNull(),
    /** the trigger holds for this miner (after hysteresis) */
    wanting: integer('wanting', { mode: 'boolean' }).notNull().default(false),
    /** the action was done and not yet undone */
    applied: integer('applied', { mode: 'boolean' }).notNull().default(false),
    /** ms of the last firing or undo (for the cooldown) */
    lastChangeAt: integer('last_change_at'),
    /** JSON: the Action that undoes this rule's action on this miner */
    undo: text('undo'),
    /** the last skip or refusal reported, so a repeated one is not reported every tick */
    lastNote: text('last_note'),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.minerId] })],
);

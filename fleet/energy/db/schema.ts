// The energy database (`energy.sqlite` in the fleet's data dir, beside the fleet's own): prices
// per half-hour slot and the source's status. The automation rules live in the same file
// (fleet/automation/schema.ts) so a rule's dry-run and its prices are read in one place.
import { integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const prices = sqliteTable('prices', {
  /** slot start, ms since epoch (UTC) */
  start: integer('start').primaryKey(),
  end: integer('end').notNull(),
  /** p/kWh including VAT; negative when you are paid to use power */
  priceIncVat: real('price_inc_vat').notNull(),
  priceExcVat: real('price_exc_vat'),
  /** which source gave it: octopus:AGILE-24-10-01:C, flat, tou */
  source: text('source').notNull(),
  fetchedAt: integer('fetched_at').notNull(),
});

/** One row per source: how its last fetches went (survives restarts, shown by the API). */
export const priceSourceStatus = sqliteTable('price_source_status', {
  source: text('source').primaryKey(),
  lastSuccessAt: integer('last_success_at'),
  lastAttemptAt: integer('last_attempt_at'),
  lastError: text('last_error'),
  /** true while the source fails and the last known prices serve */
  stale: integer('stale', { mode: 'boolean' }).notNull().default(false),
});

export * from '../../automation/schema.js';

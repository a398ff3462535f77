// Retention: old samples and roll-ups deleted in small batches (one miner, at most `batch` rows, its
// own short transaction), yielding to the event loop between batches so that the collector's
// readings and writes go on while a large backlog is pruned.
import type Database from 'better-sqlite3';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { rootLogger, type Logger } from '../../shared/log.js';
import type { RetentionConfig } from '../config/types.js';
import type { EventStore } from '../types.js';
import { minerIdsIn, writeFailure } from './store.js';

const TABLES = [
  { table: 'samples', col: 'at', keep: 'rawMs' },
  { table: 'samples_minute', col: 't', keep: 'minuteMs' },
  { table: 'samples_hour', col: 't', keep: 'hourMs' },
] as const;

export interface PrunerOptions {
  sqlite: Database.Database;
  retention: RetentionConfig;
  events?: EventStore;
  now?: () => number;
  log?: Logger;
  /** Rows per delete (default 500). */
  batch?: number;
  /** How often a pass runs, ms (default 10 min). */
  intervalMs?: number;
}

export interface PruneResult {
  samples: number;
  samples_minute: number;
  samples_hour: number;
  /** Events are kept as long as the hour roll-ups. */
  events: number;
}

export class Pruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneResult> | undefined;
  private readonly stopping = new AbortController();
  private readonly log: Logger;
  private readonly now: () => number;
  private failing = false;

  constructor(private readonly opts: PrunerOptions) {
    this.now = opts.now ?? Date.now;
    this.log = (opts.log ?? rootLogger()).child({ component: 'fleet-pruner' });
  }

  /** One pass over every table and miner; resolves with the rows deleted per table. */
  pruneOnce(): Promise<PruneResult> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<PruneResult> {
    const { sqlite } = this.opts;
    const batch = this.opts.batch ?? 500;
    const result: PruneResult = { samples: 0, samples_minute: 0, samples_hour: 0, events: 0 };
    const started = this.now();
    try {
      for (const { table, col, keep } of TABLES) {
        const cutoff = started - this.opts.retention[keep];
        // The batch's last row: everything of this miner older than the cutoff, `batch` rows at most.
        const del = sqlite.prepare(
          `DELETE FROM ${table} WHERE miner_id = @miner AND ${col} < @cutoff AND ${col} <= coalesce(
             (SELECT ${col} FROM ${table} WHERE miner_id = @miner AND ${col} < @cutoff ORDER BY ${col} LIMIT 1 OFFSET @offset), @cutoff)`,
        );
        for (const minerId of [...minerIdsIn(sqlite, table)]) {
          for (;;) {
            if (this.stopping.signal.aborted) return result;
            const n = del.run({ miner: minerId, cutoff, offset: batch - 1 }).changes;
            result[table] += n;
            await yieldToLoop();
            if (n < batch) break;
          }
        }
      }
      // Events: oldest first (ids grow with time), a batch at a time.
      const eventCutoff = new Date(started - this.opts.retention.hourMs).toISOString();
      const delEvents = sqlite.prepare(
        `DELETE FROM events WHERE id <= (SELECT max(id) FROM (SELECT id FROM events WHERE at < @cutoff ORDER BY id LIMIT @batch))`,
      );
      const oldest = sqlite.prepare('SELECT at FROM events ORDER BY id LIMIT 1').pluck();
      while (!this.stopping.signal.aborted && ((oldest.get() as string | undefined) ?? eventCutoff) < eventCutoff) {
        const n = delEvents.run({ cutoff: eventCutoff, batch }).changes;
        result.events += n;
        await yieldToLoop();
        if (n === 0) break;
      }
      if (this.failing) {
        this.failing = false;
        this.opts.events?.append({ kind: 'retention', level: 'info', message: 'pruning works again', actor: 'pruner' });
      }
    } catch (err) {
      const e = writeFailure(err, 'cannot prune the history');
      this.log.error({ err }, e.message);
      if (!this.failing) {
        this.failing = true;
        this.opts.events?.append({
          kind: 'retention',
          level: 'error',
          message: e.message,
          actor: 'pruner',
          data: { hint: e.hint ?? null },
        });
      }
      return result;
    }
    const total = result.samples + result.samples_minute + result.samples_hour + result.events;
    if (total > 0) this.log.info({ ...result, ms: this.now() - started }, 'pruned the history');
    return result;
  }

  /** Prunes now and then every interval until stop(). */
  start(): this {
    const tick = () => {
      void this.pruneOnce().finally(() => {
        if (this.stopping.signal.aborted) return;
        this.timer = setTimeout(tick, this.opts.intervalMs ?? 10 * 60_000);
        this.timer.unref();
      });
    };
    tick();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}

export function startPruner(opts: PrunerOptions): Pruner {
  return new Pruner(opts).start();
}

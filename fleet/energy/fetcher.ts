// Fetches prices on a schedule (and on demand), with retries and backoff. A failed fetch never
// removes prices: the last known ones keep serving and an event says the source is unreachable;
// another says when it is back. Listeners (the rule engine) hear about new prices.
import type { Logger } from 'pino';
import { ApiError, describeError, isAbortError } from '../../shared/errors.js';
import { londonDayStart, londonNextDayStart } from '../../shared/london-time.js';
import { retry } from '../../shared/retry.js';
import { Waker } from '../../shared/sleep.js';
import type { EventStore } from '../types.js';
import type { PriceStore } from './store.js';
import type { PriceSlot, PriceSource } from './types.js';

export interface PriceFetcherOptions {
  source: PriceSource;
  store: PriceStore;
  events?: EventStore;
  log: Logger;
  now?: () => number;
  intervalMs?: number;
  /** how far before today the fetch reaches */
  backfillMs?: number;
  /** attempts per fetch (default 4) and the backoff base (default 1 s) */
  attempts?: number;
  retryBaseMs?: number;
}

export interface FetchOutcome {
  ok: boolean;
  slots: number;
  /** slots not stored before */
  added: number;
  knownUntil: number | null;
  error?: string;
}

/** Bad requests and unknown tariffs are not worth another try; everything else (5xx, garbage, network) is. */
function retryableFetch(err: unknown): boolean {
  if (isAbortError(err)) return false;
  if (err instanceof ApiError && err.status !== undefined && err.status >= 400 && err.status < 500)
    return err.status === 408 || err.status === 429;
  return true;
}

export class PriceFetcher {
  private readonly now: () => number;
  private readonly waker = new Waker();
  private readonly listeners = new Set<(slots: PriceSlot[]) => void>();
  private running: Promise<void> | undefined;

  constructor(private readonly opts: PriceFetcherOptions) {
    this.now = opts.now ?? Date.now;
  }

  get sourceId(): string {
    return this.opts.source.id;
  }

  onPrices(fn: (slots: PriceSlot[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** One fetch of [today − backfill, end of tomorrow), retried; never throws except on abort. */
  async fetchOnce(signal?: AbortSignal): Promise<FetchOutcome> {
    const { source, store, log } = this.opts;
    const now = this.now();
    const range = {
      from: londonDayStart(now) - (this.opts.backfillMs ?? 2 * 86_400_000),
      to: londonNextDayStart(londonNextDayStart(now)),
    };
    const before = store.status(source.id);
    const knownBefore = store.knownUntil();
    try {
      const slots = await retry(() => source.fetch(range, signal), {
        attempts: this.opts.attempts ?? 4,
        baseMs: this.opts.retryBaseMs ?? 1000,
        maxMs: 30_000,
        signal,
        retryable: retryableFetch,
        onRetry: (err, attempt, delay) =>
          log.warn({ err: describeError(err), attempt, delay }, 'price fetch failed; retrying'),
      });
      const existing = new Set(store.range(range).map((s) => s.start));
      const added = slots.filter((s) => !existing.has(s.start)).length;
      store.upsert(slots, this.now());
      const knownUntil = store.knownUntil();
      store.setStatus({
        source: source.id,
        lastSuccessAt: this.now(),
        lastAttemptAt: now,
        lastError: null,
        stale: false,
      });
      if (before?.stale) {
        this.opts.events?.append({
          kind: 'price',
          level: 'info',
          message: `price source ${source.id} is back: ${slots.length} slots fetched`,
          actor: 'energy',
          data: { source: source.id },
        });
      }
      if (!source.computed && knownUntil !== null && (knownBefore === null || knownUntil > knownBefore)) {
        this.opts.events?.append({
          kind: 'price',
          level: 'info',
          actor: 'energy',
          message: `prices known through ${new Date(knownUntil).toISOString()} (${added} new slots from ${source.id})`,
          data: { source: source.id, added, knownUntil: new Date(knownUntil).toISOString() },
        });
      }
      log.debug({ source: source.id, slots: slots.length, added }, 'prices fetched');
      if (slots.length > 0) for (const l of this.listeners) l(slots);
      return { ok: true, slots: slots.length, added, knownUntil };
    } catch (err) {
      if (isAbortError(err)) throw err;
      const message = describeError(err);
      const knownUntil = store.knownUntil();
      store.setStatus({
        source: source.id,
        lastSuccessAt: before?.lastSuccessAt ?? null,
        lastAttemptAt: now,
        lastError: message,
        stale: true,
      });
      log.warn({ err: message, source: source.id }, 'price source unreachable; the last known prices keep serving');
      if (!before?.stale) {
        this.opts.events?.append({
          kind: 'price',
          level: 'warn',
          actor: 'energy',
          message: `price source ${source.id} unreachable (${message}); the last known prices${knownUntil ? ` (through ${new Date(knownUntil).toISOString()})` : ''} keep serving`,
          data: {
            source: source.id,
            error: message,
            knownUntil: knownUntil ? new Date(knownUntil).toISOString() : null,
          },
        });
      }
      return { ok: false, slots: 0, added: 0, knownUntil, error: message };
    }
  }

  /** Fetches now, then every interval, until `signal` aborts. A failed fetch is logged; the loop goes on. */
  start(signal: AbortSignal): Promise<void> {
    this.running ??= (async () => {
      while (!signal.aborted) {
        try {
          await this.fetchOnce(signal);
        } catch (err) {
          if (!isAbortError(err)) this.opts.log.error({ err: describeError(err) }, 'price fetch tick failed');
        }
        await this.waker.wait(this.opts.intervalMs ?? 30 * 60_000, signal);
      }
    })();
    return this.running;
  }

  /** Fetch again now (API "refresh", the clock crossed the afternoon publication). */
  wake(): void {
    this.waker.wake();
  }
}

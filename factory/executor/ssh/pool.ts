// One SSH connection per destination (user@host:port), shared by every instance on that host,
// reconnected on demand. Failed attempts push the next attempt back (exponential backoff with
// jitter), so however often callers ask, a dead host is not hammered: between attempts they
// get the last error at once, or wait for the next attempt if they asked to.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { backoffDelay } from '../../../shared/retry.js';
import { abortError, anySignal, sleep } from '../../../shared/sleep.js';
import { silentLogger } from '../../../shared/log.js';
import { destinationOf } from './destination.js';
import { DEFAULT_TIMINGS, SshConnection, type SshTarget, type SshTimings } from './connection.js';
import { SshError } from './errors.js';

export interface SshPoolOptions {
  log?: Logger;
  timings?: Partial<SshTimings>;
  /** Backoff between failed connection attempts to one destination. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** After a failure that needs a person (host key, authentication, configuration). */
  permanentFailureDelayMs?: number;
  now?: () => number;
  random?: () => number;
}

export interface GetOptions {
  signal?: AbortSignal;
  /** Wait for the next allowed attempt instead of failing with the last error. */
  wait?: boolean;
}

/** The connection state of one destination. */
export class SshHost extends EventEmitter<{ connected: [SshConnection]; lost: [SshError] }> {
  readonly destination: string;
  private current: SshConnection | undefined;
  private pending: Promise<SshConnection> | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  private closed = new AbortController();
  /** The last connection failure (cleared on success). */
  lastError: SshError | undefined;

  constructor(
    readonly target: SshTarget,
    private readonly opts: Required<Omit<SshPoolOptions, 'timings'>> & { timings: SshTimings },
  ) {
    super();
    this.setMaxListeners(0); // every executor of a host listens for 'lost'
    this.destination = destinationOf(target);
  }

  get connected(): boolean {
    return this.current?.alive ?? false;
  }

  /** When the next connection attempt is allowed (ms since epoch; 0 = now). */
  get retryAt(): number {
    return this.nextAttemptAt;
  }

  /** A live connection: the current one, or a new one when allowed. */
  async get(opts: GetOptions = {}): Promise<SshConnection> {
    for (;;) {
      if (this.closed.signal.aborted) throw new SshError('config', this.destination, 'the connection pool is closed');
      if (this.current?.alive) return this.current;
      if (!this.pending) {
        const wait = this.nextAttemptAt - this.opts.now();
        if (wait > 0) {
          if (!opts.wait) {
            const e = this.lastError!;
            throw new SshError(
              e.failure,
              e.destination,
              `${e.message.replace(/^ssh \S+: /, '')} (next attempt in ${Math.ceil(wait / 1000)} s)`,
              {
                hint: e.hint,
                cause: e,
                retryable: e.retryable,
              },
            );
          }
          await sleep(wait, anySignal(opts.signal, this.closed.signal));
          continue;
        }
        this.pending = this.attempt().finally(() => (this.pending = undefined));
      }
      try {
        return await raceAbort(this.pending, opts.signal);
      } catch (err) {
        if (!opts.wait || !(err instanceof SshError) || !err.retryable) throw err;
      }
    }
  }

  private async attempt(): Promise<SshConnection> {
    const log = this.opts.log;
    try {
      const conn = await SshConnection.connect(this.target, this.opts.timings, this.closed.signal);
      this.failures = 0;
      this.nextAttemptAt = 0;
      this.lastError = undefined;
      this.current = conn;
      log.info({ destination: this.destination }, 'ssh connected');
      conn.once('lost', (err) => {
        if (this.current === conn) this.current = undefined;
        if (this.closed.signal.aborted) return;
        log.warn({ destination: this.destination, err: err.message }, 'ssh connection lost');
        this.emit('lost', err);
      });
      this.emit('connected', conn);
      return conn;
    } catch (err) {
      const e =
        err instanceof SshError
          ? err
          : new SshError('unreachable', this.destination, (err as Error).message, { cause: err });
      this.failures++;
      this.lastError = e;
      const delay = e.retryable
        ? Math.max(
            this.opts.backoffBaseMs / 4,
            backoffDelay(this.failures, this.opts.backoffBaseMs, this.opts.backoffMaxMs, this.opts.random),
          )
        : this.opts.permanentFailureDelayMs;
      this.nextAttemptAt = this.opts.now() + delay;
      log.warn(
        { destination: this.destination, err: e.message, failures: this.failures, retryInMs: delay },
        'ssh connection failed',
      );
      throw e;
    }
  }

  async close(): Promise<void> {
    this.closed.abort(new Error('connection pool closed'));
    const c = this.current;
    this.current = undefined;
    await c?.close();
  }
}

export class SshPool {
  private readonly hosts = new Map<string, SshHost>();
  private readonly opts: Required<Omit<SshPoolOptions, 'timings'>> & { timings: SshTimings };

  constructor(opts: SshPoolOptions = {}) {
    this.opts = {
      log: opts.log ?? silentLogger(),
      timings: { ...DEFAULT_TIMINGS, ...opts.timings },
      backoffBaseMs: opts.backoffBaseMs ?? 1000,
      backoffMaxMs: opts.backoffMaxMs ?? 60_000,
      permanentFailureDelayMs: opts.permanentFailureDelayMs ?? 60_000,
      now: opts.now ?? Date.now,
      random: opts.random ?? Math.random,
    };
  }

  /** The one SshHost for this destination and credentials (created on first use). */
  host(target: SshTarget): SshHost {
    const key = [
      destinationOf(target),
      target.identityFile ?? '',
      target.agentSocket ?? '',
      JSON.stringify(target.hostKey),
    ].join('\0');
    let h = this.hosts.get(key);
    if (!h) {
      h = new SshHost(target, this.opts);
      this.hosts.set(key, h);
    }
    return h;
  }

  async close(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.close()));
    this.hosts.clear();
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

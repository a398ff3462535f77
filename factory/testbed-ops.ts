// Long testbed operations the tick starts but does not wait for: restoring a testbed's baseline
// after a job, and health checks (restore, then the runner's health check). They run through the
// testbed's executor (locally or over SSH), a few at a time, each under a timeout; the outcome is
// written through the store and the loop woken. Only "is it running" lives in memory: after a
// crash, a restore is redone (the instance is still destroying) and an interrupted check is
// released by TestbedHealth.abandonChecks.
import PQueue from 'p-queue';
import { describeError, isAbortError } from '../shared/errors.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/log.js';
import type { FactoryConfig, TestbedConfig } from './config/types.js';
import type { InstanceRow } from './db/schema.js';
import type { Executor } from './executor/types.js';
import type { FactoryStore, RestoreOutcome } from './store.js';
import { readVerdict, type RunnerVerdict } from './runner-verdict.js';
import { describeTestbed, hasBaseline } from './testbed-description.js';

/**
 * How long a runner the factory starts (a job's, a restore, a check) waits for another runner
 * working on the testbed — a person's `--ignore-lock` one — before it gives up naming it.
 */
export const RUNNER_LOCK_WAIT_MS = 5 * 60_000;

export interface TestbedOpsDeps {
  config: FactoryConfig;
  store: FactoryStore;
  executorFor: (testbed: string) => Executor;
  log: Logger;
  /** Called when an operation ended (its outcome is in the store). */
  onDone?: () => void;
  /** The lock directory: the credential of a holder, handed to the runner in the description. */
  locks?: {
    dir: string;
    credential(holder: string): string;
    /** Brings an SSH testbed's lock file on its host up to date (LockDirectory.publish). */
    publish?(testbed: string, signal?: AbortSignal): Promise<void>;
  };
}

export class TestbedOps {
  private readonly queue: PQueue;
  /** instance id → its restore */
  private readonly restores = new Map<string, Promise<void>>();
  /** check id → testbed */
  private readonly checks = new Map<string, string>();
  /** restore-lock holder → testbed: restores after reservations */
  private readonly releaseRestores = new Map<string, string>();
  private readonly running = new Set<Promise<void>>();
  /**
   * The operations themselves: p-queue settles a task's promise as soon as the closing signal
   * fires, while the operation still winds down (a runner on an SSH host stopped there).
   */
  private readonly inflight = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private readonly testbeds: Map<string, TestbedConfig>;

  constructor(private readonly deps: TestbedOpsDeps) {
    this.queue = new PQueue({ concurrency: deps.config.health.concurrency });
    this.testbeds = new Map(deps.config.testbeds.map((t) => [t.name, t]));
  }

  get busy(): number {
    return this.restores.size + this.checks.size + this.releaseRestores.size;
  }

  isRestoring(instanceId: string): boolean {
    return this.restores.has(instanceId);
  }

  activeCheckIds(): Set<string> {
    return new Set(this.checks.keys());
  }

  /** Whether restoring after a job has anything to do on this testbed. */
  restoreNeeded(testbed: string): string | undefined {
    const h = this.deps.config.health;
    const tb = this.testbeds.get(testbed);
    if (!tb) return 'the testbed is no longer in the config';
    if (!h.enabled || !h.restore) return 'baseline restore is off in the config';
    if (!hasBaseline(tb)) return 'nothing to restore (no baseline firmware, pools or settings)';
    return undefined;
  }

  /** Starts restoring the baseline after instance `i`; the outcome is recorded on the instance. */
  startRestore(i: InstanceRow): void {
    if (this.restores.has(i.id) || this.closing.signal.aborted) return;
    const tb = this.testbeds.get(i.testbed)!;
    const log = this.deps.log.child({ instance: i.id, testbed: i.testbed });
    const p = this.track(
      this.add(async () => {
        log.info('restoring the baseline');
        const v = await this.restore(tb, i.id, this.deadline(this.deps.config.health.restoreTimeoutMs));
        this.deps.store.recordRestore(i.id, v);
        (v.ok ? log.info.bind(log) : log.warn.bind(log))(
          { outcome: v.message },
          v.ok ? 'baseline restored' : 'baseline restore failed',
        );
      }),
      () => this.restores.delete(i.id),
      log,
      'restore',
    );
    this.restores.set(i.id, p);
  }

  /**
   * Starts the baseline restores owed after reservations ended (restore locks no restore here
   * runs: new ones, and those a restart interrupted). Each releases its lock when recorded.
   */
  startReleaseRestores(): number {
    let started = 0;
    for (const l of this.deps.store.reservations.pendingRestores()) {
      if (this.closing.signal.aborted) break;
      if (this.releaseRestores.has(l.holder)) continue;
      const tb = this.testbeds.get(l.testbed);
      const log = this.deps.log.child({ testbed: l.testbed, restore: l.holder });
      this.releaseRestores.set(l.holder, l.testbed);
      started++;
      this.track(
        this.add(async () => {
          log.info({ reason: l.reason }, 'restoring the baseline after a reservation');
          const v = tb
            ? await this.restore(tb, l.holder, this.deadline(this.deps.config.health.restoreTimeoutMs))
            : { ok: true, skipped: true, message: 'the testbed is no longer in the config' };
          this.deps.store.reservations.finishRestore(l.testbed, l.holder, v);
          (v.ok ? log.info.bind(log) : log.warn.bind(log))(
            { outcome: v.message },
            v.ok ? 'baseline restored' : 'baseline restore failed; the testbed is quarantined',
          );
        }),
        () => this.releaseRestores.delete(l.holder),
        log,
        'restore',
      );
    }
    return started;
  }

  /**
   * Starts a check of each testbed: takes it (TestbedHealth.beginCheck re-reads it) and runs the
   * check in the background. A check with nothing to run through the runner ends at once.
   */
  startChecks(names: readonly string[]): number {
    let started = 0;
    for (const name of names) {
      if (this.closing.signal.aborted) break;
      const tb = this.testbeds.get(name);
      if (!tb) continue;
      const checkId = newId();
      if (!this.deps.store.health.beginCheck(name, checkId)) continue;
      started++;
      const trivial = this.trivialCheck(tb);
      if (trivial !== undefined) {
        this.deps.store.health.finishCheck(name, checkId, true, trivial);
        continue;
      }
      const log = this.deps.log.child({ testbed: name, check: checkId });
      this.checks.set(checkId, name);
      this.track(
        this.add(async () => {
          log.info('health check started');
          const v = await this.check(tb, checkId, this.deadline(this.deps.config.health.timeoutMs));
          this.deps.store.health.finishCheck(name, checkId, v.ok, v.message);
          (v.ok ? log.info.bind(log) : log.warn.bind(log))(
            { summary: v.message },
            v.ok ? 'health check passed' : 'health check failed',
          );
        }),
        () => this.checks.delete(checkId),
        log,
        'health check',
      );
    }
    return started;
  }

  /**
   * Stops what runs (their outcomes are not recorded: the next start redoes them) and waits.
   * Every task was queued with the closing signal: p-queue rejects those still waiting at once
   * (clear() alone would leave their promises pending forever).
   */
  async close(): Promise<void> {
    this.closing.abort(new Error('the factory is stopping'));
    this.queue.clear();
    await Promise.allSettled([...this.running]);
    await Promise.allSettled([...this.inflight]);
  }

  /** Queues an operation under the closing signal; close() waits for it to end, not only for p-queue to let go. */
  private add(op: () => Promise<void>): Promise<void> {
    return this.queue.add(
      () => {
        const p = op();
        this.inflight.add(p);
        const forget = () => this.inflight.delete(p);
        p.then(forget, forget);
        return p;
      },
      { signal: this.closing.signal },
    );
  }

  private trivialCheck(tb: TestbedConfig): string | undefined {
    if (!this.deps.config.health.enabled) return 'health checks are off in the config';
    if (tb.devices.length === 0) return 'no devices to check';
    return undefined;
  }

  private deadline(ms: number): AbortSignal {
    return AbortSignal.any([this.closing.signal, AbortSignal.timeout(ms)]);
  }

  private track(p: Promise<void>, done: () => void, log: Logger, what: string): Promise<void> {
    const tracked = p
      .catch((err) => {
        if (this.closing.signal.aborted && (isAbortError(err) || err === this.closing.signal.reason))
          log.info(`${what} interrupted: the factory is stopping`);
        else log.error({ err: describeError(err) }, `${what} could not be recorded; the next pass retries`);
      })
      .finally(() => {
        done();
        this.running.delete(tracked);
        if (!this.closing.signal.aborted) this.deps.onDone?.();
      });
    this.running.add(tracked);
    return tracked;
  }

  private async runner(
    tb: TestbedConfig,
    holder: string,
    what: string,
    args: string[],
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<RunnerVerdict> {
    try {
      const ex = this.deps.executorFor(tb.name);
      // Its runner checks the lock file on the host it runs on: the holder there must be this one.
      await this.deps.locks?.publish?.(tb.name, signal);
      const r = await ex.runRunner({
        testbed: tb.name,
        description: describeTestbed(tb, {
          firmwareDir: this.deps.config.firmwareDir,
          lockCredential: this.deps.locks?.credential(holder),
          lockDir: ex.lockDir ?? this.deps.locks?.dir,
          // Half the budget: a refusal naming who works on the testbed beats a bare timeout.
          lockWaitMs: Math.min(RUNNER_LOCK_WAIT_MS, Math.floor(timeoutMs / 2)),
        }),
        args,
        timeoutMs,
        signal,
      });
      // Stopping is not a verdict on the testbed: let the caller leave the outcome unrecorded.
      if (this.closing.signal.aborted) throw this.closing.signal.reason;
      return readVerdict(what, r);
    } catch (err) {
      if (this.closing.signal.aborted) throw err;
      return { ok: false, message: `cannot run the ${what}: ${describeError(err)}` };
    }
  }

  /** Restores the baseline for the lock holder `holder` (an instance, a check, a reservation's restore). */
  private async restore(tb: TestbedConfig, holder: string, signal: AbortSignal): Promise<RestoreOutcome> {
    const skip = this.restoreNeeded(tb.name);
    if (skip !== undefined) return { ok: true, skipped: true, message: skip };
    return this.runner(tb, holder, 'restore', ['restore'], this.deps.config.health.restoreTimeoutMs, signal);
  }

  /** A check: the baseline restored (when there is one), then the runner's health check. */
  private async check(tb: TestbedConfig, checkId: string, signal: AbortSignal): Promise<RunnerVerdict> {
    const h = this.deps.config.health;
    const r = await this.restore(tb, checkId, signal);
    if (!r.ok) return { ok: false, message: `baseline restore failed: ${r.message}` };
    const args = [
      'health',
      '--window',
      `${h.windowMs}ms`,
      '--samples',
      String(h.samples),
      '--hashrate-tolerance',
      String(h.hashrateTolerance),
      '--max-temperature',
      String(h.maxTemperature),
    ];
    return this.runner(tb, checkId, 'health check', args, h.timeoutMs, signal);
  }
}

// One reconciliation pass of the factory, after the SP-test factory's phases:
//   0. reap agents that exited; release reservations whose TTL lapsed;
//   1. validate live instances against the server (gone or recycled → destroying), carry created
//      instances forward (associate, start the agent, flush once online), finish destroying ones
//      (stop the agent, delete the worker, read the runner's infrastructure report, restore the
//      baseline, release the testbed);
//   2. delete orphaned workers (private missing, or naming no live instance); ask SSH hosts
//      whether they can be used; start health checks that are due;
//   3. for free testbeds: lease → create worker → record instance → associate → start the agent.
// Every step is idempotent and reads what it needs from the database first, so a crash between
// two steps (the fault points) is repaired by the next pass, in this process or the next one.
import type { FactoryWorker } from '../shared/api/types.js';
import { FactoryClient } from '../shared/buildomat/factory.js';
import { ApiError, describeError, isAbortError, MvmError } from '../shared/errors.js';
import { abortError, withDeadline } from '../shared/sleep.js';
import { formatDuration } from '../shared/duration.js';
import type { Logger } from '../shared/log.js';
import type { FactoryConfig, TestbedConfig } from './config/types.js';
import type { InstanceRow } from './db/schema.js';
import type { AgentHandle, Executor } from './executor/types.js';
import { faultPoint } from './faults.js';
import { AGENT_START_FAILURES, type DestroyCause, type FactoryStore } from './store.js';
import { RequirementMap } from './requirements.js';
import type { TargetMap } from './targets.js';
import { describeTestbed } from './testbed-description.js';
import { RUNNER_LOCK_WAIT_MS } from './testbed-ops.js';
import type { LockDirectory } from './lock-directory.js';
import { failJobThroughWorker, givingUp } from './give-up.js';
import { TestbedOps } from './testbed-ops.js';
import { checkHosts, expireReservations, startDueChecks } from './upkeep.js';
import { summariseInfraReport } from '../shared/contracts/infra-report.js';

export interface FactoryDeps {
  config: FactoryConfig;
  store: FactoryStore;
  client: FactoryClient;
  targets: TargetMap;
  /** Targets standing for device requirements (default: those recorded in the store). */
  requirements?: RequirementMap;
  /** The executor that runs agents for a testbed (local, or over SSH). */
  executorFor: (testbed: string) => Executor;
  log: Logger;
  now?: () => number;
  /** Called when something happened that may let more work start at once (a testbed freed). */
  onProgress?: () => void;
  /** The lock directory the runner reads (absent in tests that do not need it). */
  locks?: LockDirectory;
}

export interface TickOptions {
  /** Phase 3 runs only when true (false while draining). */
  lease?: boolean;
  /** Long-poll for work this long when there is free capacity (the embedded server's extension). */
  leaseWaitMs?: number;
  signal?: AbortSignal;
  /**
   * The loop's next wake: the pass stops waiting for a held lease call (which stays in flight, its
   * lease kept for the next pass) and ends as after an empty lease.
   */
  leaseInterrupt?: AbortSignal;
}

export interface TickReport {
  /** Reservations released because their TTL lapsed. */
  expired: number;
  /** Health checks started. */
  checks: number;
  destroying: number;
  destroyed: number;
  orphansDeleted: number;
  leased: number;
  started: number;
  /** The lease call held the request for a while (a long poll), so the caller need not sleep. */
  longPolled: boolean;
  /** Instances still in `created` after the pass: their agents are coming up and want a quick re-check. */
  settling: number;
  errors: number;
}

export class Factory {
  private readonly testbedByName: Map<string, TestbedConfig>;
  private readonly now: () => number;
  /** Restores and health checks in flight. */
  readonly ops: TestbedOps;
  readonly requirements: RequirementMap;
  /** Leases the server gave that no testbed could take yet (the server holds each for 60 s). */
  private pending: Array<{ job: string; target: string; until: number }> = [];
  /**
   * A held lease call the pass stopped waiting for when a wake came: still in flight (aborting it
   * could lose a lease granted at that moment); what it brings is kept for the next pass.
   */
  private heldLease: Promise<void> | undefined;

  constructor(private readonly deps: FactoryDeps) {
    this.testbedByName = new Map(deps.config.testbeds.map((t) => [t.name, t]));
    this.now = deps.now ?? Date.now;
    this.requirements = deps.requirements ?? new RequirementMap(deps.config.testbeds);
    if (!deps.requirements) for (const rt of deps.store.requirementTargets.all()) this.requirements.add(rt);
    this.ops = new TestbedOps({
      config: deps.config,
      store: deps.store,
      executorFor: deps.executorFor,
      log: deps.log,
      onDone: () => deps.onProgress?.(),
      locks: deps.locks,
    });
    deps.store.reservations.restoreNeeded = (testbed) => this.ops.restoreNeeded(testbed) === undefined;
  }

  get store(): FactoryStore {
    return this.deps.store;
  }

  /** Stops the restores and checks in flight (a later start redoes them). */
  async close(): Promise<void> {
    await this.ops.close();
  }

  async tick(opts: TickOptions = {}): Promise<TickReport> {
    const r: TickReport = {
      expired: 0,
      checks: 0,
      destroying: 0,
      destroyed: 0,
      orphansDeleted: 0,
      leased: 0,
      started: 0,
      longPolled: false,
      settling: 0,
      errors: 0,
    };
    const signal = opts.signal;
    await this.step(r, 'reap agents', signal, () => this.reapAgents(r, signal));
    await this.step(r, 'expire reservations', signal, async () => {
      r.expired += expireReservations(this.deps.store, this.deps.log);
      // A lapsed holder's runner is refused from now on, not only after the pass.
      if (r.expired > 0) this.deps.locks?.sync();
    });
    await this.step(r, 'validate instances', signal, () => this.validateInstances(r, signal));
    await this.step(r, 'delete orphaned workers', signal, () => this.deleteOrphans(r, signal));
    await this.step(r, 'check hosts', signal, () => checkHosts(this.deps, signal));
    await this.step(r, 'start health checks', signal, async () => {
      this.ops.startReleaseRestores();
      r.checks += startDueChecks(this.deps, this.ops);
    });
    this.deps.locks?.sync();
    if (opts.lease)
      await this.step(r, 'lease work', signal, () =>
        this.leaseWork(r, opts.leaseWaitMs ?? 0, signal, opts.leaseInterrupt),
      );
    this.deps.locks?.sync();
    r.settling = this.deps.store.liveInstances().filter((i) => i.state === 'created').length;
    return r;
  }

  /** Runs one phase; a failure is logged and counted, and the pass goes on. */
  private async step(
    r: TickReport,
    what: string,
    signal: AbortSignal | undefined,
    fn: () => Promise<void>,
  ): Promise<void> {
    try {
      await fn();
    } catch (err) {
      // An aborted call may reject with the signal's reason rather than an AbortError.
      if (isAbortError(err) || signal?.aborted) throw abortError(signal);
      r.errors++;
      this.deps.log.warn({ err: describeError(err) }, `${what} failed; the next pass retries`);
    }
  }

  // ---- phase 0 ----

  /**
   * Runs `fn` for every live instance; one that fails (its SSH host unreachable, the server
   * answering 500) is logged and counted, and the others still get their turn.
   */
  private async eachInstance(
    r: TickReport,
    signal: AbortSignal | undefined,
    fn: (i: InstanceRow) => Promise<void>,
  ): Promise<void> {
    for (const i of this.deps.store.liveInstances()) {
      try {
        await fn(i);
      } catch (err) {
        if (isAbortError(err) || signal?.aborted) throw abortError(signal);
        r.errors++;
        this.deps.log.warn(
          { instance: i.id, testbed: i.testbed, err: describeError(err) },
          'instance step failed; the next pass retries',
        );
      }
    }
  }

  private async reapAgents(r: TickReport, signal?: AbortSignal): Promise<void> {
    await this.eachInstance(r, signal, async (i) => {
      if (i.state === 'destroying' || i.agentPid === null || i.agentPgid === null) return;
      const ex = this.deps.executorFor(i.testbed);
      if (await ex.isRunning(i.id, handleOf(i)!, signal)) return;
      // The agent is gone. Whether that was the job ending or the agent dying depends on the server.
      const w = await this.deps.client.getWorker(i.workerId, { signal });
      const exit = ex.exitStatus(i.id);
      let cause: DestroyCause;
      if (!w || w.recycle) cause = { reason: 'job finished; agent exited' };
      else if (exit?.code === 0) cause = { reason: 'agent exited before its worker was recycled' };
      else {
        const how = exit
          ? exit.signal
            ? `killed by ${exit.signal}`
            : `exit code ${exit.code}`
          : 'its process disappeared';
        cause = { reason: 'agent died', failure: `agent process ended (${how}) while the job was live` };
      }
      this.destroy(r, i, cause);
    });
  }

  // ---- phase 1 ----

  private async validateInstances(r: TickReport, signal?: AbortSignal): Promise<void> {
    // One call for all the workers rather than one per live instance: a pass with twenty running
    // jobs stays a couple of round trips, so a freed testbed gets its next job sooner.
    const live = this.deps.store.liveInstances();
    const workers = live.some((i) => i.state !== 'destroying')
      ? new Map((await this.deps.client.listWorkers({ signal })).map((w) => [w.id, w]))
      : new Map<string, FactoryWorker>();
    await this.eachInstance(r, signal, (i) =>
      i.state === 'destroying'
        ? this.finishDestroying(r, i, signal)
        : this.validateOne(r, i, workers.get(i.workerId) ?? null, signal),
    );
  }

  private async validateOne(
    r: TickReport,
    i: InstanceRow,
    w: FactoryWorker | null,
    signal?: AbortSignal,
  ): Promise<void> {
    const { config } = this.deps;
    const age = this.now() - i.createdAt;
    let cause: DestroyCause | undefined;
    if (!w) cause = { reason: 'worker gone from the server' };
    else if (w.private && w.private !== i.id) cause = { reason: `worker belongs to instance ${w.private}` };
    else if (w.recycle) cause = { reason: 'worker recycled: job over' };
    else if (age > config.instanceDeadlineMs) {
      cause = {
        reason: 'instance deadline passed',
        failure: `still live after ${formatDuration(age)} (instance_deadline ${formatDuration(config.instanceDeadlineMs)})`,
      };
    } else if (i.state === 'created' && !w.online && age > config.agentOnlineTimeoutMs) {
      cause = {
        reason: 'agent never came online',
        failure: `worker not online ${formatDuration(age)} after creation (agent_online_timeout ${formatDuration(config.agentOnlineTimeoutMs)})`,
      };
    }
    if (cause) {
      if (w && cause.failure) await this.maybeFailJob(i, w, cause, signal);
      const d = this.destroy(r, i, cause);
      await this.finishDestroying(r, d, signal);
      return;
    }
    if (i.state === 'created') {
      // Keep the lease while the agent comes up, so no other factory takes the job meanwhile. A
      // refusal before the agent is online means the job is no longer ours to run: it ended
      // (cancelled) or went to another worker — the server gives a job to a worker only once it
      // bootstrapped, so ours cannot have it. Left alone, the instance would hold the testbed
      // with an idle agent until some other job came along.
      if (!w!.online && i.job) {
        const renewed = await this.deps.client.renewLease(i.job, { signal }).catch((err) => {
          this.deps.log.debug({ job: i.job, err: describeError(err) }, 'lease renewal failed');
          return true; // unknown: try again next pass
        });
        if (
          !renewed &&
          !(await this.deps.client.getWorker(i.workerId, { signal }))?.online &&
          !(await this.retakeLease(i, signal))
        ) {
          const d = this.destroy(r, i, {
            reason: `its job ${i.job} ended or went elsewhere before the agent came online`,
          });
          await this.finishDestroying(r, d, signal);
          return;
        }
      }
      await this.advanceCreated(r, i, w!, signal);
    }
  }

  /**
   * Carries a created instance forward: associate → start the agent → flush once online → running.
   * Each step is skipped when the database says it is done, and safe to repeat when it is not.
   */
  private async advanceCreated(
    r: TickReport,
    inst: InstanceRow,
    w: FactoryWorker,
    signal?: AbortSignal,
  ): Promise<void> {
    const { store, client, config } = this.deps;
    let i = inst;
    if (!i.associated || w.private !== i.id) {
      await client.associate(w.id, { private: i.id }, { signal });
      faultPoint('after-associate');
      i = store.recordAssociated(i.id);
    }
    if (i.agentPid === null) {
      const tb = this.testbedByName.get(i.testbed);
      if (!tb) {
        const d = this.destroy(r, i, { reason: `testbed ${i.testbed} is no longer in the config` });
        await this.finishDestroying(r, d, signal);
        return;
      }
      const ex = this.deps.executorFor(i.testbed);
      let handle: AgentHandle;
      try {
        // On an SSH testbed the job's runner reads the lock file on the host: bring it up to date first.
        await this.deps.locks?.publish(i.testbed, signal);
        handle = await ex.start(
          {
            instanceId: i.id,
            url: config.baseUrl,
            bootstrap: w.bootstrap,
            testbed: describeTestbed(tb, {
              instance: i,
              targetName: this.targetName(i.target),
              firmwareDir: config.firmwareDir,
              lockCredential: this.deps.locks?.credential(i.id),
              lockDir: ex.lockDir ?? this.deps.locks?.dir,
              lockWaitMs: RUNNER_LOCK_WAIT_MS,
              deadline: i.createdAt + config.instanceDeadlineMs,
            }),
          },
          // A start that takes too long fails with a TimeoutError saying so (agent_start_timeout).
          withDeadline(config.agentStartTimeoutMs, `starting the agent of ${i.id}`, signal),
        );
      } catch (err) {
        if (signal?.aborted) throw abortError(signal);
        const cause = { reason: 'agent failed to start', failure: describeError(err) };
        await this.maybeFailJob(i, w, cause, signal);
        const d = this.destroy(r, i, cause);
        await this.finishDestroying(r, d, signal);
        return;
      }
      faultPoint('after-start-agent');
      i = store.recordAgent(i.id, handle);
      faultPoint('after-record-agent');
      r.started++;
    }
    if (w.online) {
      await client.flush(w.id, { signal });
      i = store.markRunning(i.id);
      faultPoint('after-mark-running');
      this.deps.log.info({ instance: i.id, testbed: i.testbed, worker: w.id }, 'agent online; instance running');
    }
  }

  /** After `agent_start_attempts` agents of a job failed to start or come online, the job fails, saying why. */
  private async maybeFailJob(
    i: InstanceRow,
    w: FactoryWorker,
    cause: DestroyCause,
    signal?: AbortSignal,
  ): Promise<void> {
    const message = givingUp(
      this.deps.config,
      this.deps.store,
      i.job,
      i.id,
      cause.reason,
      cause.failure ?? cause.reason,
    );
    if (!message) return;
    const log = this.deps.log.child({ instance: i.id, testbed: i.testbed, job: i.job });
    try {
      await failJobThroughWorker(this.deps.config, this.deps.client, w, message, signal);
      this.deps.store.journal('job-failed', message, { instanceId: i.id, testbed: i.testbed });
      log.warn({ reason: cause.reason }, 'failed the job: its agents did not start or come online');
    } catch (err) {
      if (signal?.aborted) throw abortError(signal);
      // The agent came up meanwhile, or the server refused: the job is leased again as before.
      log.warn({ err: describeError(err) }, 'could not fail the job through its worker; it will be leased again');
    }
  }

  private destroy(r: TickReport, i: InstanceRow, cause: DestroyCause): InstanceRow {
    const d = this.deps.store.markDestroying(i.id, cause);
    faultPoint('after-mark-destroying');
    r.destroying++;
    const log = this.deps.log.child({ instance: i.id, testbed: i.testbed, worker: i.workerId });
    if (cause.failure)
      log.warn(
        { reason: cause.reason, failure: cause.failure },
        'destroying instance; testbed flagged for a health check',
      );
    else log.info({ reason: cause.reason }, 'destroying instance');
    return d;
  }

  /**
   * destroying → destroyed: stop the agent's tree, delete the worker, read the runner's report,
   * restore the baseline (in the background: the instance stays destroying, and its testbed
   * locked, until the restore is recorded), then release the testbed.
   */
  private async finishDestroying(r: TickReport, inst: InstanceRow, signal?: AbortSignal): Promise<void> {
    const { store, client, config } = this.deps;
    let i = inst;
    const ex = this.deps.executorFor(i.testbed);
    let stuck = false;
    if (i.stopOutcome === null) {
      const res = await ex.stop(i.id, handleOf(i), config.stopGraceMs, signal);
      faultPoint('after-stop-agent');
      if (res.outcome === 'stuck') {
        // A process that survives SIGKILL may still drive the devices: keep the testbed (the
        // instance stays destroying, the lock held) and quarantine it; each pass tries again.
        store.recordStuck(i.id, res.reason ?? 'a process group survived SIGKILL');
        this.deps.log.error(
          { instance: i.id, testbed: i.testbed, reason: res.reason },
          'agent processes cannot be stopped; the testbed stays out of use until they are gone',
        );
        stuck = true;
      } else {
        i = store.recordStopOutcome(
          i.id,
          res.taskPgid !== undefined ? `${res.outcome} (task group ${res.taskPgid} too)` : res.outcome,
        );
      }
    }
    if (!i.workerDeleted) {
      // Say in the job's own log why it ends (agent died: … SIGKILL), not only in our database.
      if (i.failure && i.reason !== null && !AGENT_START_FAILURES.includes(i.reason)) {
        await client
          .append(i.workerId, { stream: 'control', payload: `mvm factory: ${i.reason}: ${i.failure}` }, { signal })
          .catch((err) => {
            if (signal?.aborted) throw abortError(signal);
            this.deps.log.debug({ instance: i.id, err: describeError(err) }, 'could not tell the job why it ends');
          });
      }
      try {
        await client.deleteWorker(i.workerId, { signal });
      } catch (err) {
        // Already gone is what we wanted.
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
      faultPoint('after-delete-worker');
      i = store.recordWorkerDeleted(i.id);
    }
    if (stuck) return;
    if (!i.infraChecked) {
      // Read once the agent is stopped, so the report is complete.
      i = store.recordInfraReport(i.id, summariseInfraReport(await ex.infraReport(i.id, signal)));
    }
    if (i.restoreOutcome === null) {
      const skip = this.ops.restoreNeeded(i.testbed);
      if (skip === undefined) {
        // Crash window: a restore running when the factory died left no outcome; it is started again.
        this.ops.startRestore(i);
        return;
      }
      i = store.recordRestore(i.id, { ok: true, skipped: true, message: skip });
    }
    // The job's files were uploaded or are of no further use; a failure to remove them frees the testbed all the same.
    if (!config.keepJobFiles)
      await ex
        .cleanup(i.id, signal)
        .catch((err) =>
          this.deps.log.warn({ instance: i.id, err: describeError(err) }, 'could not remove the job files'),
        );
    store.markDestroyed(i.id);
    faultPoint('after-mark-destroyed');
    r.destroyed++;
    this.deps.log.info({ instance: i.id, testbed: i.testbed, reason: i.reason }, 'instance destroyed; testbed free');
    this.deps.onProgress?.();
  }

  // ---- phase 2 ----

  private async deleteOrphans(r: TickReport, signal?: AbortSignal): Promise<void> {
    const { store, client } = this.deps;
    for (const w of await client.listWorkers({ signal })) {
      const byPrivate = w.private ? store.instance(w.private) : undefined;
      if (byPrivate && byPrivate.state !== 'destroyed' && byPrivate.workerId === w.id) continue;
      // Created but not yet associated (a crash after recording the instance): phase 1 associates it.
      if (!w.private && store.instancesByWorker(w.id).some((i) => i.state !== 'destroyed')) continue;
      const why = !w.private
        ? 'never associated'
        : byPrivate
          ? `its instance ${w.private} is ${byPrivate.state}`
          : `names unknown instance ${w.private}`;
      try {
        await client.deleteWorker(w.id, { signal });
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
      faultPoint('after-delete-orphan');
      store.journal('orphan-deleted', `deleted orphaned worker ${w.id} (${why})`);
      this.deps.log.info({ worker: w.id, why }, 'deleted orphaned worker');
      r.orphansDeleted++;
    }
  }

  /** Target ids a testbed serves: those its config names, and the requirement targets its devices satisfy. */
  servedTargetIds(testbed: string): string[] {
    const tb = this.testbedByName.get(testbed);
    if (!tb) return [];
    return [...new Set([...this.deps.targets.idsOf(tb.targets), ...this.requirements.idsServedBy(testbed)])];
  }

  /** The id of a target the config names. */
  targetIdOf(name: string): string | undefined {
    return this.deps.targets.idOf(name);
  }

  targetName(id: string): string {
    return this.requirements.nameOf(id) ?? this.deps.targets.nameOf(id);
  }

  // ---- phase 3 ----

  private freeTestbeds(): string[] {
    return this.deps.store.freeTestbeds(this.deps.config.quarantineUnhealthy).filter((n) => this.testbedByName.has(n));
  }

  private async leaseWork(
    r: TickReport,
    leaseWaitMs: number,
    signal?: AbortSignal,
    interrupt?: AbortSignal,
  ): Promise<void> {
    const { store, client } = this.deps;
    for (let first = true; ; first = false) {
      let free = this.freeTestbeds();
      this.pending = this.pending.filter((p) => this.now() < p.until);
      const placeable = this.pending
        .map((held) => ({ held, testbed: free.find((n) => this.servedTargetIds(n).includes(held.target)) }))
        .find((x) => x.testbed !== undefined);
      if (placeable) {
        this.pending = this.pending.filter((p) => p !== placeable.held);
        if (!(await this.place(r, placeable.held, placeable.testbed!, signal))) return;
        continue;
      }
      const wanted = [...new Set(free.flatMap((n) => this.servedTargetIds(n)))];
      if (wanted.length === 0) {
        if (first) await client.ping({ signal }); // stay visible to the server while full
        return;
      }
      // One held call at a time: while an earlier one is still in flight, ask without waiting.
      const waitMs = first && !this.heldLease ? leaseWaitMs : 0;
      const started = this.now();
      const call = client.lease(wanted, { waitMs, signal });
      const lease = waitMs > 0 && interrupt ? await untilWoken(call, interrupt) : await call;
      if (lease === WOKEN) {
        this.deps.log.debug(
          { targets: wanted.map((x) => this.targetName(x)), free },
          'a wake came during the held lease call; the call goes on',
        );
        this.heldLease = call
          .then(
            (l) => {
              if (l) this.keep(l, 'granted to a held lease call after a wake ended the pass');
            },
            (err) => {
              if (!signal?.aborted) this.deps.log.debug({ err: describeError(err) }, 'held lease call failed');
            },
          )
          .finally(() => {
            this.heldLease = undefined;
            this.deps.onProgress?.(); // the next pass leases (and long-polls) again
          });
        return;
      }
      faultPoint('after-lease');
      if (!lease) {
        // A real buildomat ignores wait_ms and answers at once: only a held request counts as a long poll.
        r.longPolled = waitMs > 0 && this.now() - started >= waitMs / 2;
        return;
      }
      r.leased++;
      // A server may hand a factory its own unexpired lease again: a job one of our workers is
      // still waiting for must not get a second worker (and a second testbed). Once running, a
      // worker has some job (not necessarily the leased one), so it no longer counts.
      if (store.liveInstances().some((i) => i.job === lease.job && i.state === 'created')) {
        this.deps.log.debug({ job: lease.job }, 'leased a job a live instance already waits for');
        return;
      }
      // Re-read: the long poll may have held the request while a testbed was reserved or checked.
      free = this.freeTestbeds();
      const testbed = free.find((n) => this.servedTargetIds(n).includes(lease.target));
      if (!testbed) {
        this.keep(lease, 'no testbed serving its target is free any more');
        return;
      }
      if (!(await this.place(r, lease, testbed, signal))) return;
    }
  }

  /**
   * After a refused renewal: a job server that restarted forgot its leases, but the job may still
   * be queued — leasing the instance's target again gets it back (true). Another job leased here
   * is kept for the next free testbed; none means ours is gone.
   */
  private async retakeLease(i: InstanceRow, signal?: AbortSignal): Promise<boolean> {
    const again = await this.deps.client.lease([i.target], { waitMs: 0, signal });
    if (again?.job === i.job) {
      this.deps.log.info({ instance: i.id, job: i.job }, 'lease taken again (the job server had forgotten it)');
      return true;
    }
    if (again) this.keep(again, 'leased while looking for a lost lease');
    return false;
  }

  /**
   * A lease no testbed can take now stays ours on the server until it lapses; kept here so the
   * job is placed the moment a testbed frees instead of waiting out the lease.
   */
  private keep(lease: { job: string; target: string }, why: string): void {
    this.pending = [
      ...this.pending.filter((p) => p.job !== lease.job),
      { job: lease.job, target: lease.target, until: this.now() + LEASE_KEEP_MS },
    ];
    this.deps.log.info(
      { job: lease.job, target: this.targetName(lease.target), why },
      'leased job kept for the next free testbed',
    );
  }

  /** Worker, instance, agent for a lease on a testbed; false (the lease kept) when the testbed was taken meanwhile. */
  private async place(
    r: TickReport,
    lease: { job: string; target: string },
    testbed: string,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const { store, client } = this.deps;
    const w = await client.createWorker({ target: lease.target, job: lease.job, waitForFlush: true }, { signal });
    faultPoint('after-create-worker');
    let i: InstanceRow;
    try {
      i = store.createInstance({ testbed, target: lease.target, job: lease.job, workerId: w.id });
    } catch (err) {
      if (!(err instanceof MvmError && err.code === 'CONFLICT')) throw err;
      // A reservation or a check took the testbed between the read and the write.
      this.keep(lease, err.message);
      // Crash window: if this fails, the unassociated worker is an orphan the next pass deletes.
      await client
        .deleteWorker(w.id, { signal })
        .catch((e) => this.deps.log.debug({ worker: w.id, err: describeError(e) }, 'worker left for the orphan pass'));
      return false;
    }
    faultPoint('after-record-instance');
    this.deps.log.info(
      { instance: i.id, testbed, target: this.targetName(lease.target), job: lease.job, worker: w.id },
      'leased a job; instance created',
    );
    await this.advanceCreated(r, i, w, signal);
    return true;
  }
}

const WOKEN = Symbol('woken');

/** The call's result, or WOKEN if `interrupt` fires first (the call goes on). */
function untilWoken<T>(call: Promise<T>, interrupt: AbortSignal): Promise<T | typeof WOKEN> {
  if (interrupt.aborted) return Promise.resolve(WOKEN);
  return Promise.race([
    call,
    new Promise<typeof WOKEN>((resolve) => interrupt.addEventListener('abort', () => resolve(WOKEN), { once: true })),
  ]);
}

/** How long an unplaced lease is kept: less than the job server's lease (60 s), so it never outlives it. */
const LEASE_KEEP_MS = 45_000;

function handleOf(i: InstanceRow): AgentHandle | undefined {
  return i.agentPid !== null && i.agentPgid !== null
    ? { pid: i.agentPid, pgid: i.agentPgid, startedAt: i.agentStartedAt ?? 0 }
    : undefined;
}

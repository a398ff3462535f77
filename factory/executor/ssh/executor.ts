// The SSH executor: the factory's Executor (factory/executor/types.ts) for testbeds whose agent
// runs on another host, plus check(), the preflight that says whether the host can be used. Connections come from a shared SshPool (one per host); a supervision loop reconnects after
// a loss and reports agents that ended.
import { homedir, userInfo } from 'node:os';
import type { Logger } from 'pino';
import { instancePath, testbedRunDir } from '../../../shared/contracts/layout.js';
import { describeError, TimeoutError, type MvmError } from '../../../shared/errors.js';
import { silentLogger } from '../../../shared/log.js';
import { Waker, withDeadline } from '../../../shared/sleep.js';
import type { SshTarget } from './connection.js';
import { SshError } from './errors.js';
import type { SshHost, SshPool } from './pool.js';
import { agentStatus, copyTestbed, preflight, startAgent, stopAgent, type PreflightResult } from './remote-agent.js';
import type { SshConnection } from './connection.js';
import { shellScript } from './quote.js';
import { RUN_TAGGED_RUNNER, MKDIR, MKDIR_FOR_TASK_USER, READ_OPTIONAL, REMOVE_JOBS } from './remote-scripts.js';
import { stopTaggedRunners } from './runner-scripts.js';
import { DEFAULT_REMOTE_LOCK_DIR, publishRemoteLock } from './remote-locks.js';
import type { LockOverride, TestbedLockFile } from '../../../shared/testbed-locks.js';
import type {
  AgentExit,
  AgentHandle,
  AgentSpec,
  AgentStopResult,
  Executor,
  RunnerRequest,
  RunnerResult,
} from '../types.js';
import type { TestbedConfig } from '../../config/types.js';

/** A testbed's `agent = { mode = "ssh", … }` as the factory's configuration hands it over. */
export interface SshPlacementLike {
  host: string;
  port: number;
  user?: string;
  identityFile?: string;
  knownHosts?: string;
  /** A pinned `SHA256:…` host key fingerprint, instead of known_hosts. */
  hostKey?: string;
  remoteWorkdir?: string;
  remoteCommand?: string[];
  /** The lock directory on the host (default DEFAULT_REMOTE_LOCK_DIR). */
  lockDir?: string;
}

export interface SshExecutorOptions {
  placement: SshPlacementLike;
  pool: SshPool;
  /** The testbed's name, for logs. */
  testbed?: string;
  log?: Logger;
  /** How often watched agents are checked (and a lost connection retried). */
  pollIntervalMs?: number;
  /** After a failed preflight, how long check() answers with the same reason before trying again. */
  recheckAfterMs?: number;
  expectVersion?: string;
  /**
   * How long one bookkeeping command on the host (status, start, read, cleanup; a stop gets the
   * grace period on top) may take when the caller's signal does not end it first: a host that
   * keeps the connection alive but never answers. A TimeoutError (code TIMEOUT) when it passes.
   */
  commandTimeoutMs?: number;
  now?: () => number;
  /** Told of the runners a previous factory left running on the host, once stopped (for the journal). */
  onOrphanRunners?: (stopped: OrphanRunner[]) => void;
}

/** A restore or health-check runner a previous factory left running, and how it ended. */
export interface OrphanRunner {
  testbed: string;
  pid: number;
  outcome: string;
}

/** The default for SshExecutorOptions.commandTimeoutMs. */
export const SSH_COMMAND_TIMEOUT_MS = 60_000;

export function targetOf(p: SshPlacementLike): SshTarget {
  return {
    host: p.host,
    port: p.port,
    user: p.user ?? userInfo().username,
    identityFile: p.identityFile,
    hostKey:
      p.hostKey !== undefined
        ? { fingerprint: p.hostKey }
        : { knownHosts: p.knownHosts ?? `${homedir()}/.ssh/known_hosts` },
  };
}

export class SshExecutor implements Executor {
  readonly target: SshTarget;
  readonly host: SshHost;
  readonly remoteWorkdir: string;
  readonly remoteCommand: string[];
  readonly lockDir: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly listeners: Array<(instanceId: string) => void> = [];
  /** Instances whose agent this executor started or adopted and has not seen end. */
  private readonly watched = new Set<string>();
  private readonly checked = new WeakMap<SshConnection, PreflightResult>();
  /** Exit statuses seen in the remote workdirs (the agent exited by itself). */
  private readonly exits = new Map<string, AgentExit>();
  private failedCheck: { error: MvmError; until: number } | undefined;
  private lastWarning: string | undefined;
  private readonly waker = new Waker();
  private readonly closed = new AbortController();
  private loop: Promise<void> | undefined;
  /** Whether the runners a previous factory left on the host were looked for (once per factory). */
  private orphansSwept = false;

  constructor(private readonly opts: SshExecutorOptions) {
    this.target = targetOf(opts.placement);
    this.host = opts.pool.host(this.target);
    this.remoteWorkdir = (opts.placement.remoteWorkdir ?? `/var/tmp/mvm-agents-${this.target.user}`).replace(
      /\/+$/,
      '',
    );
    this.remoteCommand = opts.placement.remoteCommand ?? ['mvm'];
    this.lockDir = opts.placement.lockDir ?? DEFAULT_REMOTE_LOCK_DIR;
    this.log = (opts.log ?? silentLogger()).child({ testbed: opts.testbed, destination: this.host.destination });
    this.now = opts.now ?? Date.now;
    this.host.on('lost', () => this.waker.wake());
  }

  /** The testbed this executor serves. */
  get testbed(): string | undefined {
    return this.opts.testbed;
  }

  workdir(instanceId: string): string {
    return `${this.remoteWorkdir}/${instanceId}`;
  }

  /**
   * The caller's signal with this executor's bound on one host command (plus `extraMs`, e.g. a
   * stop's grace period): the one way every remote call here is ended early.
   */
  private bounded(signal: AbortSignal | undefined, what: string, extraMs = 0): AbortSignal {
    const ms = (this.opts.commandTimeoutMs ?? SSH_COMMAND_TIMEOUT_MS) + extraMs;
    return withDeadline(ms, `ssh ${this.host.destination}: ${what}`, signal);
  }

  onExit(listener: (instanceId: string) => void): void {
    this.listeners.push(listener);
  }

  /** The exit status the agent left in its workdir, as last seen by isRunning or supervision. */
  exitStatus(instanceId: string): AgentExit | undefined {
    return this.exits.get(instanceId);
  }

  private status(conn: SshConnection, instanceId: string, signal?: AbortSignal) {
    const bounded = this.bounded(signal, `the agent status of ${instanceId}`);
    return agentStatus(conn, this.workdir(instanceId), bounded).then((s) => {
      if (!s.running && s.exitCode !== undefined) this.exits.set(instanceId, { code: s.exitCode, signal: null });
      return s;
    });
  }

  /**
   * Whether the host can run agents now: reachable, host key and login accepted, mvm present and
   * compatible, workdir writable. Rejects with an SshError whose message is the reason to show;
   * a failure is remembered for recheckAfterMs so that callers cannot cause a tight retry loop.
   */
  async check(signal?: AbortSignal): Promise<PreflightResult> {
    if (this.failedCheck && this.now() < this.failedCheck.until) throw this.failedCheck.error;
    try {
      const conn = await this.host.get({ signal });
      const known = this.checked.get(conn);
      if (known) return known;
      const result = await preflight(conn, {
        remoteCommand: this.remoteCommand,
        workdir: this.remoteWorkdir,
        expectVersion: this.opts.expectVersion,
        signal: this.bounded(signal, 'the preflight'),
      });
      this.checked.set(conn, result);
      this.failedCheck = undefined;
      this.lastWarning = undefined;
      this.log.info({ version: result.version }, 'ssh testbed host ready');
      return result;
    } catch (err) {
      if (err instanceof TimeoutError && !signal?.aborted) {
        // A host that does not answer its preflight in time is paced like one that says no.
        this.failedCheck = { error: err, until: this.now() + (this.opts.recheckAfterMs ?? 60_000) };
        if (err.message !== this.lastWarning) this.log.warn({ err: err.message }, 'ssh testbed host not usable');
        this.lastWarning = err.message;
      }
      if (err instanceof SshError) {
        // connection failures are already paced by the pool's backoff
        if (err.failure === 'remote')
          this.failedCheck = { error: err, until: this.now() + (this.opts.recheckAfterMs ?? 60_000) };
        const base = err.cause instanceof SshError ? err.cause.message : err.message;
        // Said once per distinct failure: callers ask every pass.
        if (base !== this.lastWarning) this.log.warn({ err: err.message }, 'ssh testbed host not usable');
        this.lastWarning = base;
      }
      throw err;
    }
  }

  /**
   * check(), rejecting with the failure itself rather than the pool's "next attempt in N s"
   * wrapper, so the reason a testbed is unavailable stays the same from one pass to the next.
   */
  async ready(signal?: AbortSignal): Promise<void> {
    try {
      await this.check(signal);
    } catch (err) {
      throw err instanceof SshError && err.cause instanceof SshError ? err.cause : err;
    }
  }

  async start(spec: AgentSpec, signal?: AbortSignal): Promise<AgentHandle> {
    await this.check(signal);
    const conn = await this.host.get({ signal });
    const workdir = this.workdir(spec.instanceId);
    const status = await this.status(conn, spec.instanceId, signal);
    if (status.running && status.pid !== undefined) {
      this.watch(spec.instanceId);
      return { pid: status.pid, pgid: status.pid, startedAt: this.now() };
    }
    // A task user must walk down to its job folder, without listing the other instances.
    const mk = await conn.exec(
      spec.testbed.task_user !== undefined
        ? shellScript(MKDIR_FOR_TASK_USER, 'mvm-mkdir', [this.remoteWorkdir, workdir])
        : shellScript(MKDIR, 'mvm-mkdir', [workdir]),
      { signal: this.bounded(signal, `creating ${workdir}`) },
    );
    if (mk.code !== 0)
      throw new SshError('remote', conn.destination, `cannot create ${workdir}: ${mk.stderr.trim()}`, {
        retryable: false,
      });
    const testbedFile = await copyTestbed(conn, workdir, spec.testbed);
    const h = await startAgent(conn, {
      remoteCommand: this.remoteCommand,
      workdir,
      url: spec.url,
      bootstrap: spec.bootstrap,
      testbedFile,
      signal: this.bounded(signal, `starting the agent of ${spec.instanceId}`),
    });
    this.log.info(
      { instance: spec.instanceId, pid: h.pid, workdir, log: instancePath(workdir, 'agentLog') },
      'remote agent started',
    );
    this.watch(spec.instanceId);
    return { pid: h.pid, pgid: h.pid, startedAt: this.now() };
  }

  /**
   * Whether the agent (or the task it left running) is alive. Rejects with a retryable SshError
   * when the host cannot be asked: "unknown" is neither yes nor no.
   */
  async isRunning(instanceId: string, handle: AgentHandle, signal?: AbortSignal): Promise<boolean> {
    const conn = await this.host.get({ signal });
    const status = await this.status(conn, instanceId, signal);
    return status.running && status.pid === handle.pid;
  }

  /** After a factory restart: the agent still running in the instance's remote workdir, if any. */
  async adopt(instanceId: string, signal?: AbortSignal): Promise<AgentHandle | undefined> {
    const conn = await this.host.get({ signal });
    const status = await this.status(conn, instanceId, signal);
    if (!status.running || status.pid === undefined) return undefined;
    this.log.info({ instance: instanceId, pid: status.pid }, 'remote agent adopted');
    this.watch(instanceId);
    return { pid: status.pid, pgid: status.pid, startedAt: this.now() };
  }

  /** Stops the agent's process group and its running task's group; safe to repeat after a reconnect. */
  async stop(
    instanceId: string,
    _handle: AgentHandle | undefined,
    graceMs: number,
    signal?: AbortSignal,
  ): Promise<AgentStopResult> {
    const conn = await this.host.get({ signal });
    const r = await stopAgent(
      conn,
      this.workdir(instanceId),
      graceMs,
      // Two rounds at most (a task that started during the first), each with its grace period.
      this.bounded(signal, `stopping the agent of ${instanceId}`, 2 * graceMs),
    );
    this.watched.delete(instanceId);
    this.log.info({ instance: instanceId, ...r }, 'remote agent stopped');
    return r;
  }

  private runnerTag(testbed: string): string {
    return `${this.remoteWorkdir}|${testbed}`;
  }

  /**
   * Stops the restore and health-check runners a previous factory (crashed, its connection gone)
   * left running on the host for this testbed, so that two never drive one device. Done once, at
   * start or before the first runner when the host was unreachable then; reported to
   * onOrphanRunners and returned.
   */
  async stopOrphanRunners(signal?: AbortSignal): Promise<OrphanRunner[]> {
    if (this.orphansSwept) return [];
    const testbed = this.opts.testbed ?? '';
    const conn = await this.host.get({ signal });
    const stopped = (await stopTaggedRunners(conn, this.runnerTag(testbed), signal)).map((s) => ({ testbed, ...s }));
    this.orphansSwept = true;
    if (stopped.length > 0) {
      this.log.warn({ stopped }, 'stopped runners a previous factory left running on the host');
      this.opts.onOrphanRunners?.(stopped);
    }
    return stopped;
  }

  async publishLock(file: TestbedLockFile, signal?: AbortSignal): Promise<LockOverride[]> {
    const conn = await this.host.get({ signal });
    return publishRemoteLock(conn, this.lockDir, file, signal);
  }

  /** Runs `mvm runner …` on the testbed host, against a copy of the description in the remote workdir. */
  async runRunner(req: RunnerRequest): Promise<RunnerResult> {
    await this.check(req.signal);
    await this.stopOrphanRunners(req.signal);
    const conn = await this.host.get({ signal: req.signal });
    const dir = testbedRunDir(this.remoteWorkdir, req.testbed);
    const mk = await conn.exec(shellScript(MKDIR, 'mvm-mkdir', [dir]), {
      signal: this.bounded(req.signal, `creating ${dir}`),
    });
    if (mk.code !== 0)
      throw new SshError('remote', conn.destination, `cannot create ${dir}: ${mk.stderr.trim()}`, { retryable: false });
    const file = await copyTestbed(conn, dir, req.description);
    const seconds = String(Math.max(1, Math.ceil(req.timeoutMs / 1000)));
    const argv = shellScript(RUN_TAGGED_RUNNER, 'mvm-runner', [
      seconds,
      this.runnerTag(req.testbed),
      ...this.remoteCommand,
      'runner',
      ...req.args,
      '--testbed',
      file,
      '--json',
    ]);
    try {
      // The host's own timeout ends the runner; this bound only catches a host that stops answering.
      const r = await conn.exec(argv, { signal: this.bounded(req.signal, 'the runner', req.timeoutMs) });
      return {
        code: r.code,
        signal: r.signal ?? null,
        stdout: r.stdout,
        stderr: r.stderr,
        timedOut: r.code === 124 || r.code === 137,
      };
    } catch (err) {
      // The channel closed does not end the runner on the host (no terminal, no SIGHUP): a runner
      // given up on — the factory stopping, its deadline passed — is stopped there.
      if (req.signal?.aborted)
        await stopTaggedRunners(conn, this.runnerTag(req.testbed), AbortSignal.timeout(30_000)).catch((e) =>
          this.log.warn({ err: describeError(e) }, 'cannot stop the runner left on the host'),
        );
      if (err instanceof TimeoutError)
        return { code: null, signal: null, stdout: '', stderr: err.message, timedOut: true };
      throw err;
    }
  }

  async infraReport(instanceId: string, signal?: AbortSignal): Promise<string> {
    const conn = await this.host.get({ signal });
    const r = await conn.exec(
      shellScript(READ_OPTIONAL, 'mvm-read', [instancePath(this.workdir(instanceId), 'infraReport')]),
      { signal: this.bounded(signal, `reading the infrastructure report of ${instanceId}`) },
    );
    if (r.code !== 0)
      throw new SshError(
        'remote',
        conn.destination,
        `cannot read the infrastructure report of ${instanceId}: ${r.stderr.trim()}`,
        { retryable: true },
      );
    return r.stdout;
  }

  async cleanup(instanceId: string, signal?: AbortSignal): Promise<void> {
    const conn = await this.host.get({ signal });
    const r = await conn.exec(shellScript(REMOVE_JOBS, 'mvm-cleanup', [this.workdir(instanceId)]), {
      // Removing a large job tree takes longer than a status check.
      signal: this.bounded(
        signal,
        `removing the job files of ${instanceId}`,
        this.opts.commandTimeoutMs ?? SSH_COMMAND_TIMEOUT_MS,
      ),
    });
    if (r.code !== 0)
      throw new SshError(
        'remote',
        conn.destination,
        `cannot remove the job files of ${instanceId}: ${r.stderr.trim()}`,
        { retryable: true },
      );
  }

  /** Ends the supervision loop (the pool, shared, is closed by its owner). */
  async close(): Promise<void> {
    this.closed.abort();
    this.waker.wake();
    await this.loop;
  }

  private watch(instanceId: string): void {
    this.watched.add(instanceId);
    this.loop ??= this.supervise();
  }

  /** Reconnects after a loss (paced by the pool's backoff) and reports agents that ended. */
  private async supervise(): Promise<void> {
    const every = this.opts.pollIntervalMs ?? 5000;
    while (!this.closed.signal.aborted) {
      await this.waker.wait(every, this.closed.signal);
      if (this.closed.signal.aborted || this.watched.size === 0) continue;
      try {
        const wasConnected = this.host.connected;
        const conn = await this.host.get({ signal: this.closed.signal });
        for (const id of [...this.watched]) {
          const status = await this.status(conn, id, this.closed.signal);
          if (!wasConnected)
            this.log.info(
              { instance: id, running: status.running, pid: status.pid },
              'remote agent checked after reconnect',
            );
          if (!status.running && this.watched.delete(id)) {
            this.log.info({ instance: id }, 'remote agent ended');
            for (const l of this.listeners) l(id);
          }
        }
      } catch (err) {
        if (!this.closed.signal.aborted)
          this.log.debug({ err: describeError(err) }, 'remote agent supervision: will try again');
      }
    }
  }
}

/** An SshExecutor for every testbed whose agent runs over SSH, by testbed name (one pool for all). */
export function sshExecutorsFor(
  testbeds: readonly TestbedConfig[],
  opts: Omit<SshExecutorOptions, 'placement' | 'testbed'>,
): Map<string, SshExecutor> {
  const out = new Map<string, SshExecutor>();
  for (const tb of testbeds) {
    if (tb.agent.mode === 'ssh') out.set(tb.name, new SshExecutor({ ...opts, placement: tb.agent, testbed: tb.name }));
  }
  return out;
}

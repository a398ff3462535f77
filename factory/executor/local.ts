// The local executor: runs each instance's agent on this machine (shared/spawn.ts), detached in its own
// process group, its output in <workdir>/agent.log and its identity in <workdir>/agent.pid, so a
// restarted factory can adopt it or stop its whole tree. A pipe on fd 3 (shared/agent-online.ts)
// brings the agent's "online" the moment it bootstrapped, so the factory need not wait for a re-check.
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { execArgv } from '../../shared/exec.js';
import { MvmError } from '../../shared/errors.js';
import { MVM_BIN } from '../../shared/paths.js';
import { spawnInGroup } from '../../shared/spawn.js';
import type { Logger } from '../../shared/log.js';
import { groupAlive, stopProcessGroup, type StopResult } from '../../shared/process-tree.js';
import { stopEscaped } from '../../shared/escaped-processes.js';
import { AGENT_ONLINE_FD_ENV, AGENT_ONLINE_LINE } from '../../shared/agent-online.js';
import { findByEnv, findByEnvValues, procGroup, procStartTime, sameProcessAlive } from './proc.js';
import { agentPidContract, agentPidText, type AgentPid } from '../../shared/contracts/agent-pid.js';
import { instancePath, testbedRunDir } from '../../shared/contracts/layout.js';
import { runningTaskContract } from '../../shared/contracts/running-task.js';
import type {
  AgentExit,
  AgentHandle,
  AgentSpec,
  AgentStopResult,
  Executor,
  RunnerRequest,
  RunnerResult,
} from './types.js';

/** The environment variable that marks an agent's processes with their instance id. */
export const INSTANCE_ENV = 'MVM_FACTORY_INSTANCE';
/** Marks a restore or health-check runner with its factory (instance root) and testbed. */
export const RUNNER_ENV = 'MVM_FACTORY_RUNNER';

export interface LocalExecutorOptions {
  /** Root of the instance work directories. */
  root: string;
  /** argv of the agent command; the executor appends --url, --workdir, --testbed, --bootstrap-file. */
  command: string[];
  /** argv of the runner (`mvm runner`); the executor appends the operation, --testbed and --json. */
  runnerCommand?: string[];
  log: Logger;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export class LocalExecutor implements Executor {
  private readonly exits = new Map<string, AgentExit>();
  private readonly children = new Map<string, { pid: number; exited: boolean }>();
  private readonly listeners: Array<(instanceId: string) => void> = [];
  private readonly onlineListeners: Array<(instanceId: string) => void> = [];
  private readonly now: () => number;

  constructor(private readonly opts: LocalExecutorOptions) {
    this.now = opts.now ?? Date.now;
  }

  workdir(instanceId: string): string {
    return join(this.opts.root, instanceId);
  }

  onExit(listener: (instanceId: string) => void): void {
    this.listeners.push(listener);
  }

  /** Called when an agent this executor started says it is online (bootstrapped). */
  onOnline(listener: (instanceId: string) => void): void {
    this.onlineListeners.push(listener);
  }

  exitStatus(instanceId: string): AgentExit | undefined {
    return this.exits.get(instanceId);
  }

  async start(spec: AgentSpec, signal?: AbortSignal): Promise<AgentHandle> {
    signal?.throwIfAborted();
    const existing = await this.adopt(spec.instanceId, signal);
    if (existing) return existing;

    const dir = this.workdir(spec.instanceId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A task user must walk down to its job folder, without listing the other instances.
    if (spec.testbed.task_user !== undefined) chmodSync(this.opts.root, 0o711);
    const testbedFile = instancePath(dir, 'testbed');
    writeAtomic(testbedFile, JSON.stringify(spec.testbed, null, 2) + '\n', 0o644);
    const bootstrapFile = instancePath(dir, 'bootstrap');
    writeAtomic(bootstrapFile, spec.bootstrap, 0o600);

    const [file, ...base] = this.opts.command;
    const args = [
      ...base,
      '--url',
      spec.url,
      '--workdir',
      dir,
      '--testbed',
      testbedFile,
      '--bootstrap-file',
      bootstrapFile,
    ];
    // The log file's descriptor goes straight to the child (not piped through the factory), so the
    // agent keeps writing after the factory exits.
    const logFd = openSync(instancePath(dir, 'agentLog'), 'a', 0o600);
    const env = childEnv(this.opts.env ?? process.env);
    env[INSTANCE_ENV] = spec.instanceId;
    env[AGENT_ONLINE_FD_ENV] = '3';
    // Its own process group (one signal reaches the whole tree), and nothing ties it to this
    // process: the agent outlives a factory restart; stopping it is a decision, not a side effect.
    const started = await spawnInGroup(file, args, { cwd: dir, env, stdio: ['ignore', logFd, logFd, 'pipe'] }).finally(
      () => closeSync(logFd),
    );
    if (!started.ok) {
      throw new MvmError('IO', `cannot start the agent (${file}): ${started.error.message}`, {
        hint: 'check [factory] agent_command in the config: the program must exist and be executable',
        retryable: false,
      });
    }
    const { child, pid } = started;
    child.on('error', (err) =>
      this.opts.log.warn({ instance: spec.instanceId, pid, err: err.message }, 'agent process error'),
    );
    // Crash window: the agent runs but agent.pid is not written yet. adopt() then finds it by the
    // instance id in its environment instead.
    const handle: AgentHandle = { pid, pgid: pid, startedAt: this.now() };
    this.writePidFile(spec.instanceId, handle);

    const tracked = { pid, exited: false };
    this.children.set(spec.instanceId, tracked);
    child.unref();
    this.watchOnline(spec.instanceId, child.stdio[3] as Socket | null);
    child.on('exit', (code, sig) => {
      tracked.exited = true;
      this.exits.set(spec.instanceId, { code, signal: sig });
      this.opts.log.info({ instance: spec.instanceId, pid, code, signal: sig }, 'agent exited');
      for (const l of this.listeners) l(spec.instanceId);
    });
    this.opts.log.info({ instance: spec.instanceId, pid, workdir: dir }, 'agent started');
    return handle;
  }

  /** Reads the agent's one "online" line; the pipe never keeps the factory running, and its loss is no error. */
  private watchOnline(instanceId: string, pipe: Socket | null): void {
    if (!pipe) return;
    pipe.unref();
    let text = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (chunk: string) => {
      text += chunk;
      if (!text.startsWith(AGENT_ONLINE_LINE)) {
        if (text.length >= AGENT_ONLINE_LINE.length) pipe.destroy(); // not the line we wait for
        return;
      }
      pipe.destroy();
      for (const l of this.onlineListeners) l(instanceId);
    });
    pipe.on('error', () => pipe.destroy());
  }

  async isRunning(instanceId: string, handle: AgentHandle, signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    const child = this.children.get(instanceId);
    if (child && child.pid === handle.pid) return !child.exited;
    const pf = this.readPidFile(instanceId);
    return sameProcessAlive(handle.pid, pf?.pid === handle.pid ? pf.start_time : undefined);
  }

  // Local answers come from /proc and small files: nothing to wait for, but an aborted caller
  // gets no answer (the same contract as the SSH executor's).
  async adopt(instanceId: string, signal?: AbortSignal): Promise<AgentHandle | undefined> {
    signal?.throwIfAborted();
    const handleOf = (pf: AgentPid): AgentHandle => ({ pid: pf.pid, pgid: pf.pgid, startedAt: pf.started_at ?? 0 });
    const child = this.children.get(instanceId);
    if (child && !child.exited) {
      const pf = this.readPidFile(instanceId);
      if (pf) return handleOf(pf);
    }
    const pf = this.readPidFile(instanceId);
    if (pf && sameProcessAlive(pf.pid, pf.start_time)) return handleOf(pf);
    // No usable pid file: an agent started just before a crash is still recognisable by its env.
    for (const pid of findByEnv(INSTANCE_ENV, instanceId)) {
      const pgid = procGroup(pid);
      if (pgid === pid) {
        const found: AgentHandle = { pid, pgid, startedAt: this.now() };
        this.writePidFile(instanceId, found);
        return found;
      }
    }
    return undefined;
  }

  async stop(
    instanceId: string,
    handle: AgentHandle | undefined,
    graceMs: number,
    signal?: AbortSignal,
  ): Promise<AgentStopResult> {
    const dir = this.workdir(instanceId);
    const agent = handle ?? (await this.adopt(instanceId, signal));
    const groups: number[] = [];
    if (agent) {
      const pf = this.readPidFile(instanceId);
      const reused =
        pf?.pid === agent.pid &&
        pf.start_time !== undefined &&
        !sameProcessAlive(agent.pid, pf.start_time) &&
        groupAlive(agent.pgid) &&
        procGroup(agent.pid) === agent.pid;
      // A recycled pid that leads a group of its own is somebody else's process: leave it alone.
      if (!reused) groups.push(agent.pgid);
    }
    // A task group the agent left behind (it keeps running-task.json while a task runs).
    const { pgid: taskPgid, mark } = readRunningTask(dir) ?? {};
    if (taskPgid !== undefined && !groups.includes(taskPgid)) groups.push(taskPgid);
    const results: StopResult[] = await Promise.all(
      groups.map((g) => stopProcessGroup(g, graceMs, 50, { abort: signal })),
    );
    // What the task started outside its group (setsid) carries its mark: stop that too.
    const escaped = mark ? await stopEscaped(mark, graceMs) : [];
    if (escaped.length > 0)
      this.opts.log.warn(
        { instance: instanceId, escaped },
        'stopped processes the task left outside its process group',
      );
    const stuck = results.find((r) => r.outcome === 'stuck');
    if (stuck) return { outcome: 'stuck', reason: stuck.reason, ...(taskPgid !== undefined ? { taskPgid } : {}) };
    const outcome = results.some((r) => r.outcome === 'killed')
      ? 'killed'
      : results.some((r) => r.outcome === 'terminated')
        ? 'terminated'
        : 'gone';
    return { outcome, ...(taskPgid !== undefined ? { taskPgid } : {}) };
  }

  private runnerTag(testbed: string): string {
    return `${this.opts.root}|${testbed}`;
  }

  /**
   * Restore and health-check runners a previous factory on this root started and a crash left
   * running (they run in their own process group): stopped before new ones start, so two never
   * drive the same device. Returns what was stopped.
   */
  async stopOrphanRunners(
    testbeds: readonly string[],
  ): Promise<Array<{ testbed: string; pid: number; outcome: string }>> {
    const out: Array<{ testbed: string; pid: number; outcome: string }> = [];
    const found = findByEnvValues(
      RUNNER_ENV,
      testbeds.map((t) => this.runnerTag(t)),
    );
    for (const testbed of testbeds) {
      for (const pid of found.get(this.runnerTag(testbed)) ?? []) {
        if (pid === process.pid || procGroup(pid) !== pid) continue; // group leaders only: the runner itself
        const r = await stopProcessGroup(pid, 2000);
        out.push({ testbed, pid, outcome: r.outcome });
      }
    }
    return out;
  }

  async runRunner(req: RunnerRequest): Promise<RunnerResult> {
    const dir = testbedRunDir(this.opts.root, req.testbed);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = instancePath(dir, 'testbed');
    writeAtomic(file, JSON.stringify(req.description, null, 2) + '\n', 0o644);
    const base = this.opts.runnerCommand ?? [process.execPath, MVM_BIN, 'runner'];
    const env: NodeJS.ProcessEnv = {
      ...childEnv(this.opts.env ?? process.env),
      MVM_LOG_LEVEL: 'warn',
      [RUNNER_ENV]: this.runnerTag(req.testbed),
    };
    const r = await execArgv([...base, ...req.args, '--testbed', file, '--json'], {
      cwd: dir,
      env,
      timeoutMs: req.timeoutMs,
      signal: req.signal,
      maxCapture: 256_000,
    });
    if (r.spawnError) {
      throw new MvmError('IO', `cannot start the runner (${base[0]}): ${r.spawnError}`, {
        hint: 'check [factory] runner_command in the config',
        retryable: false,
      });
    }
    return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut || r.aborted };
  }

  async infraReport(instanceId: string, signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    try {
      return readFileSync(instancePath(this.workdir(instanceId), 'infraReport'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  async cleanup(instanceId: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    rmSync(instancePath(this.workdir(instanceId), 'jobs'), { recursive: true, force: true });
  }

  private writePidFile(instanceId: string, h: AgentHandle): void {
    const pf: AgentPid = { pid: h.pid, pgid: h.pgid, started_at: h.startedAt };
    const startTime = procStartTime(h.pid);
    if (startTime !== undefined) pf.start_time = startTime;
    writeAtomic(instancePath(this.workdir(instanceId), 'agentPid'), agentPidText(pf), 0o600);
  }

  /** The pid file, when it is there and valid (a torn or foreign one is not trusted). */
  private readPidFile(instanceId: string): AgentPid | undefined {
    return readOptional(instancePath(this.workdir(instanceId), 'agentPid'), (t) => agentPidContract.tryParse(t));
  }
}

/**
 * The environment for an agent or runner: the factory's, without its secrets (MVM_FACTORY_TOKEN,
 * MVM_ADMIN_TOKEN, …). Jobs run as the factory's user and could read an agent's environment.
 */
export function childEnv(from: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) if (v !== undefined && !SECRET_ENV.test(k)) env[k] = v;
  return env;
}

const SECRET_ENV = /TOKEN|SECRET|PASSWORD|PASSWD|PRIVATE_KEY|CREDENTIAL/i;

function readRunningTask(dir: string) {
  return readOptional(instancePath(dir, 'runningTask'), (t) => runningTaskContract.tryParse(t));
}

function readOptional<T>(file: string, parse: (text: string) => T | undefined): T | undefined {
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

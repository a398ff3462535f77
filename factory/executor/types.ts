// Where and how an instance's agent runs. The local executor starts it on this machine; the SSH
// executor (its own issue) on the testbed's host. The factory only ever talks to this interface.
import type { StopResult } from '../../shared/process-tree.js';
import type { LockOverride, TestbedLockFile } from '../../shared/testbed-locks.js';
import type { TestbedDescription } from '../testbed-description.js';

export interface AgentSpec {
  instanceId: string;
  /** The job server URL the agent talks to. */
  url: string;
  /** The worker's bootstrap string: a secret, handed over in a 0600 file, never on a command line. */
  bootstrap: string;
  testbed: TestbedDescription;
}

export interface AgentHandle {
  pid: number;
  /** The agent's process group (it leads its own group). */
  pgid: number;
  startedAt: number;
}

/** How the agent ended, when the executor saw it end (unknown for adopted agents). */
export interface AgentExit {
  code: number | null;
  signal: string | null;
}

export interface AgentStopResult {
  outcome: StopResult['outcome'];
  /** Why the outcome is `stuck`. */
  reason?: string;
  /** A task process group the agent left behind (from running-task.json) that was stopped too. */
  taskPgid?: number;
}

/** `mvm runner <args> --testbed FILE --json` on the host where the testbed's agent runs. */
export interface RunnerRequest {
  testbed: string;
  description: TestbedDescription;
  /** The runner operation and its options, e.g. ["health", "--window", "15s"]. */
  args: string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface RunnerResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Stopped by the timeout (or the signal) before it ended by itself. */
  timedOut: boolean;
}

export interface Executor {
  /**
   * Starts the instance's agent, or returns the one already running for it (idempotent: a crash
   * between starting and recording the agent must not start a second one).
   */
  start(spec: AgentSpec, signal?: AbortSignal): Promise<AgentHandle>;
  // Every method that may wait (on a host, on processes) takes a signal: a drain's force signal
  // must not wait out an SSH timeout of a minute or two.
  /** Whether the recorded agent still runs. */
  isRunning(instanceId: string, handle: AgentHandle, signal?: AbortSignal): Promise<boolean>;
  /** The exit status, if this executor saw the agent exit. */
  exitStatus(instanceId: string): AgentExit | undefined;
  /** Finds an agent that survived a factory restart, from what it left on disk. */
  adopt(instanceId: string, signal?: AbortSignal): Promise<AgentHandle | undefined>;
  /** Stops the agent's whole tree (graceful, then forced), and any task group it left behind. */
  stop(
    instanceId: string,
    handle: AgentHandle | undefined,
    graceMs: number,
    signal?: AbortSignal,
  ): Promise<AgentStopResult>;
  /** The directory that holds the instance's files (testbed.json, logs, the agent's jobs). */
  workdir(instanceId: string): string;
  /** Called when an agent this executor started exits. */
  onExit(listener: (instanceId: string) => void): void;
  /**
   * Whether the host can run agents now (SSH: reachable, host key, mvm present, workdir
   * writable); rejects with the reason to show. Paced by the executor: cheap to ask every pass.
   * Absent: always ready (local).
   */
  ready?(signal?: AbortSignal): Promise<void>;
  /** Runs the runner against the testbed (health checks, baseline restore). */
  runRunner(req: RunnerRequest): Promise<RunnerResult>;
  /**
   * The lock directory on the host the runners run on, when it is not the factory's own (SSH):
   * descriptions name it, and publishLock keeps the testbed's lock file there.
   */
  readonly lockDir?: string;
  /** Writes the testbed's lock file on the host; returns the --ignore-lock notes left there (removed). */
  publishLock?(file: TestbedLockFile, signal?: AbortSignal): Promise<LockOverride[]>;
  /**
   * The raw text of the runner's infrastructure-failure report in the instance's workdir
   * (infra-failures.jsonl, beside testbed.json), or '' when the job's runner reported none.
   */
  infraReport(instanceId: string, signal?: AbortSignal): Promise<string>;
  /** Removes the job files of an ended instance (its `jobs/` folder); agent.log and testbed.json stay. */
  cleanup(instanceId: string, signal?: AbortSignal): Promise<void>;
}

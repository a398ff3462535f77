// The agent's life on a remote host, over any RemoteShell (an SshConnection in production):
// preflight, testbed description upload, detached start, liveness after a reconnect, and stop by
// process group. Every remote command is a constant script from remote-scripts.ts run with its
// inputs as quoted positional parameters; the bootstrap string travels on stdin into a 0600 file
// and never appears on a command line.
import { agentPidContract, parseRemoteAgentPid } from '../../../shared/contracts/agent-pid.js';
import { instancePath } from '../../../shared/contracts/layout.js';
import { remoteStatusContract, remoteStopContract, type RemoteStatus } from '../../../shared/contracts/remote-agent.js';
import { runningTaskContract, type RunningTask } from '../../../shared/contracts/running-task.js';
import { MVM_VERSION } from '../../../shared/paths.js';
import { SshError } from './errors.js';
import type { ExecOptions, ExecResult } from './connection.js';
import { shellScript } from './quote.js';
import { LAUNCH, PREFLIGHT_WORKDIR, STATUS, STOP } from './remote-scripts.js';

export interface RemoteShell {
  readonly destination: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  writeFile(path: string, data: string | Buffer, mode?: number): Promise<void>;
}

export { instancePath as remotePath };

/** Same major version, and for 0.x the same minor: the agent protocol may change between minors. */
export function versionCompatible(remote: string, local: string = MVM_VERSION): boolean {
  const a = /^(\d+)\.(\d+)\./.exec(remote);
  const b = /^(\d+)\.(\d+)\./.exec(local);
  if (!a || !b) return false;
  return a[1] === b[1] && (a[1] !== '0' || a[2] === b[2]);
}

function tail(s: string, n = 400): string {
  const t = s.trim();
  return t.length > n ? '…' + t.slice(-n) : t;
}

export interface PreflightResult {
  version: string;
}

/**
 * Checks that the remote host can run agents: `remote_command --version` works and is compatible,
 * setsid exists, the workdir can be created and written. Throws an SshError ('remote', not
 * retryable) whose message is the reason to show for the testbed.
 */
export async function preflight(
  shell: RemoteShell,
  opts: { remoteCommand: string[]; workdir: string; expectVersion?: string; signal?: AbortSignal },
): Promise<PreflightResult> {
  const cmd = opts.remoteCommand.join(' ');
  const r = await shell.exec([...opts.remoteCommand, '--version'], { signal: opts.signal });
  if (r.code === 127 || r.code === 126)
    throw new SshError(
      'remote',
      shell.destination,
      `remote command \`${cmd}\` cannot be run (exit ${r.code}: ${tail(r.stderr) || 'not found'})`,
      {
        retryable: false,
        hint: 'install mvm on the testbed host, or set remote_command to its absolute path (non-interactive SSH sessions have a short PATH)',
      },
    );
  if (r.code !== 0)
    throw new SshError(
      'remote',
      shell.destination,
      `\`${cmd} --version\` failed (exit ${r.code ?? r.signal}): ${tail(r.stderr || r.stdout)}`,
      {
        retryable: false,
        hint: 'run the same command on the testbed host by hand to see what is wrong',
      },
    );
  const version = /\d+\.\d+\.\d+[^\s]*/.exec(r.stdout)?.[0];
  const expect = opts.expectVersion ?? MVM_VERSION;
  if (!version || !versionCompatible(version, expect))
    throw new SshError(
      'remote',
      shell.destination,
      `remote mvm version ${version ?? JSON.stringify(tail(r.stdout, 80))} is not compatible with the factory's ${expect}`,
      {
        retryable: false,
        hint: `install mvm ${expect.replace(/\.\d+$/, '.x')} on the testbed host`,
      },
    );
  const w = await shell.exec(shellScript(PREFLIGHT_WORKDIR, 'mvm-preflight', [opts.workdir]), {
    signal: opts.signal,
  });
  if (w.code !== 0)
    throw new SshError(
      'remote',
      shell.destination,
      tail(w.stderr) || `workdir check failed (exit ${w.code ?? w.signal})`,
      {
        retryable: false,
        hint: `remote_workdir must be a directory the SSH user owns and only it can write (or can create); fix it or change remote_workdir. Install any missing tool the message names (setsid: util-linux; ps: procps)`,
      },
    );
  return { version };
}

/** Copies the testbed description into the workdir; returns its remote path. */
export async function copyTestbed(shell: RemoteShell, workdir: string, description: string | object): Promise<string> {
  const path = instancePath(workdir, 'testbed');
  const text = typeof description === 'string' ? description : JSON.stringify(description, null, 2) + '\n';
  await shell.writeFile(path, text, 0o644);
  return path;
}

export interface StartOptions {
  remoteCommand: string[];
  workdir: string;
  url: string;
  bootstrap: string;
  /** Remote path of the testbed description (see copyTestbed). */
  testbedFile?: string;
  signal?: AbortSignal;
}

/** The agent's argv; the bootstrap string is not in it (it goes to a 0600 file via stdin). */
export function agentArgv(o: Omit<StartOptions, 'bootstrap' | 'signal'>): string[] {
  return [
    ...o.remoteCommand,
    'agent',
    'run',
    '--url',
    o.url,
    '--workdir',
    o.workdir,
    ...(o.testbedFile !== undefined ? ['--testbed', o.testbedFile] : []),
    '--bootstrap-file',
    instancePath(o.workdir, 'bootstrap'),
  ];
}

export interface RemoteAgentHandle {
  /** The leader of the agent's session and process group (setsid): pid = pgid. */
  pid: number;
  /** The remote host's boot id when the agent started ('' where unknown). */
  bootId: string;
}

/** A script's last line of output (a login shell's rc files may print before it), checked against its contract. */
function lastLine<T>(contract: { tryParse(text: string): T | undefined }, stdout: string): T | undefined {
  return contract.tryParse(stdout.trim().split('\n').pop() ?? '');
}

/**
 * Starts the agent detached from the SSH channel, in its own session and process group, with
 * stdin from /dev/null and output appended to agent.log: a dropped connection does not touch it.
 */
export async function startAgent(shell: RemoteShell, o: StartOptions): Promise<RemoteAgentHandle> {
  const argv = agentArgv(o);
  // The launcher refuses to start a second agent beside a live one it is told about.
  const { agentPgid } = await remoteState(shell, o.workdir, o.signal);
  const r = await shell.exec(shellScript(LAUNCH, 'mvm-launch', [o.workdir, String(agentPgid ?? ''), ...argv]), {
    stdin: o.bootstrap,
    signal: o.signal,
  });
  const pf = r.code === 0 ? lastLine(agentPidContract, r.stdout) : undefined;
  const handle = pf && { pid: pf.pgid, bootId: pf.boot_id ?? '' };
  if (!handle)
    throw new SshError(
      'remote',
      shell.destination,
      `cannot start the agent in ${o.workdir} (exit ${r.code ?? r.signal}): ${tail(r.stderr || r.stdout)}`,
      {
        retryable: false,
        hint: `look at ${instancePath(o.workdir, 'agentLog')} on the host`,
      },
    );
  return handle;
}

export interface RemoteAgentStatus {
  /** Whether any process of the agent's group (or of its running task's group) is alive. */
  running: boolean;
  /** The agent's group leader (the launcher's wrapper shell), which is also the pgid. */
  pid: number | undefined;
  taskPgid: number | undefined;
  /** The agent's exit status, once it has exited by itself (not when it was killed). */
  exitCode: number | undefined;
}

interface RemoteState {
  status: RemoteAgentStatus;
  /** The agent's process group, from a valid agent.pid written since the host last booted. */
  agentPgid?: number;
  /** The running task, from a valid running-task.json (read only while agent.pid is valid). */
  task?: RunningTask;
}

function readState(env: RemoteStatus): RemoteState {
  const pf = env.agent_pid === null ? undefined : parseRemoteAgentPid(env.agent_pid);
  // A pid file from before the host last rebooted names somebody else's process group now.
  const agentPgid = pf && (pf.boot_id ?? '') === env.boot_id ? pf.pgid : undefined;
  const task =
    agentPgid !== undefined && env.running_task !== null ? runningTaskContract.tryParse(env.running_task) : undefined;
  const exit = agentPgid !== undefined && env.agent_exit !== null ? /^(\d+)$/.exec(env.agent_exit.trim()) : null;
  const live = (g: number | undefined) => g !== undefined && env.live_groups.includes(g);
  return {
    agentPgid,
    ...(task ? { task } : {}),
    status: {
      running: live(agentPgid) || live(task?.pgid),
      pid: agentPgid,
      taskPgid: task?.pgid,
      exitCode: exit ? Number(exit[1]) : undefined,
    },
  };
}

async function remoteState(shell: RemoteShell, workdir: string, signal?: AbortSignal): Promise<RemoteState> {
  const r = await shell.exec(shellScript(STATUS, 'mvm-status', [workdir]), { signal });
  const env = r.code === 0 ? lastLine(remoteStatusContract, r.stdout) : undefined;
  if (!env)
    throw new SshError(
      'remote',
      shell.destination,
      `cannot check the agent in ${workdir} (exit ${r.code ?? r.signal}): ${tail(r.stderr || r.stdout)}`,
      { retryable: true },
    );
  return readState(env);
}

/** Reads the pid file and running-task.json and checks the groups (zombies do not count). */
export async function agentStatus(
  shell: RemoteShell,
  workdir: string,
  signal?: AbortSignal,
): Promise<RemoteAgentStatus> {
  return (await remoteState(shell, workdir, signal)).status;
}

export interface StopOutcome {
  outcome: 'gone' | 'terminated' | 'killed';
  /** The running task's process group that was stopped too (from running-task.json). */
  taskPgid?: number;
  /** How many processes carrying the task's mark were stopped (left its group: setsid). */
  escaped?: number;
}

const WORSE = ['gone', 'terminated', 'killed'] as const;

/**
 * SIGTERM to the agent's process group and to the running task's group, SIGKILL after
 * `graceMs`; resolves once no member is left. Idempotent: safe to repeat after a reconnect.
 * Bounded only by `signal`: give it a deadline longer than the grace period.
 */
export async function stopAgent(
  shell: RemoteShell,
  workdir: string,
  graceMs = 10_000,
  signal?: AbortSignal,
): Promise<StopOutcome> {
  const seconds = Math.max(1, Math.ceil(graceMs / 1000));
  const state = await remoteState(shell, workdir, signal);
  const stopped = new Set<number>();
  let groups = [state.agentPgid, state.task?.pgid].filter((g): g is number => g !== undefined);
  let outcome: StopOutcome['outcome'] = 'gone';
  let taskPgid = state.task?.pgid;
  let mark = state.task?.mark ?? '';
  let escaped = 0;
  // A task that the agent started while the stop was on its way is stopped in a second round.
  for (let round = 0; round < 2 && (round === 0 || groups.length > 0); round++) {
    const r = await shell.exec(shellScript(STOP, 'mvm-stop', [workdir, String(seconds), mark, ...groups.map(String)]), {
      signal,
    });
    const res = r.code === 0 ? lastLine(remoteStopContract, r.stdout) : undefined;
    if (!res)
      throw new SshError(
        'remote',
        shell.destination,
        `cannot stop the agent in ${workdir} (exit ${r.code ?? r.signal}): ${tail(r.stderr || r.stdout)}`,
        { retryable: true },
      );
    if (WORSE.indexOf(res.outcome) > WORSE.indexOf(outcome)) outcome = res.outcome;
    escaped += res.escaped ?? 0;
    for (const g of groups) stopped.add(g);
    const late =
      state.agentPgid !== undefined && res.running_task !== null
        ? runningTaskContract.tryParse(res.running_task)
        : undefined;
    groups = late && !stopped.has(late.pgid) ? [late.pgid] : [];
    if (groups.length > 0) {
      taskPgid = late!.pgid;
      mark = late!.mark ?? '';
    }
  }
  return { outcome, ...(taskPgid !== undefined ? { taskPgid } : {}), ...(escaped > 0 ? { escaped } : {}) };
}

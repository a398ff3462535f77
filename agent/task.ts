// Runs one task: its script under bash, in its own process group, output split into lines.
// While it runs, `running-task.json` names its process group. When the script exits, anything it
// left running in its group is stopped too; when `signal` aborts, the whole group is stopped
// (SIGTERM, then SIGKILL after the grace period). Contained in a PID namespace where the host
// allows (task-sandbox.ts), nothing the task started can outlive it; otherwise what it started in
// sessions of its own is found by the mark in its environment. A group that cannot be stopped
// (it outlives SIGKILL, or the agent may not signal it) keeps `running-task.json`: the factory
// reads it and keeps the testbed until the group is gone.
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { groupAlive, stopProcessGroup, type StopResult } from '../shared/process-tree.js';
import { spawnInGroup } from '../shared/spawn.js';
import { LineSplitter } from './lines.js';
import { newTaskMark, stopEscaped, TASK_MARK_ENV, type Escaped } from '../shared/escaped-processes.js';
import { INSTANCE_FILES } from '../shared/contracts/layout.js';
import { clearRunningTask, writeRunningTask } from './marker.js';
import { BUILDOMAT_WORK, containedArgv, type TaskSandbox } from './task-sandbox.js';

export interface TaskSpec {
  job: string;
  task: number;
  script: string;
  scriptFile: string;
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  /** The job's folder, bind-mounted on /work in the task's namespace (when the sandbox can). */
  workSource?: string;
  /** The cwd as the task sees it there (e.g. /work): `cwd` seen through the bind mount. */
  cwdInside?: string;
}

export interface TaskRunOptions {
  /** The agent's workdir, where running-task.json lives. */
  agentDir: string;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Messages about the task's processes (not its output). */
  onNote: (message: string) => void;
  signal: AbortSignal;
  /** Aborts when the grace period must be cut short (a second SIGTERM): SIGKILL at once. */
  force?: AbortSignal;
  graceMs: number;
  log: Logger;
  maxLineBytes?: number;
  /** How tasks are contained (default: marked only). */
  sandbox?: TaskSandbox;
}

export interface TaskResult {
  exitCode: number;
  /** The signal that ended the script, if one did. */
  signal?: string;
  durationMs: number;
  /** The task was stopped because `signal` aborted. */
  stopped: boolean;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

export async function runTask(spec: TaskSpec, opts: TaskRunOptions): Promise<TaskResult> {
  const start = performance.now();
  const asRoot = process.getuid?.() === 0;
  const switchUser = asRoot && spec.uid !== undefined;
  try {
    writeFileSync(spec.scriptFile, spec.script.endsWith('\n') ? spec.script : spec.script + '\n', { mode: 0o700 });
    // The script is the task's own: readable by the user it runs as, and by nobody else.
    if (switchUser) chownSync(spec.scriptFile, spec.uid!, spec.gid ?? spec.uid!);
  } catch (err) {
    // A full disk, typically: the task cannot run, and says why; the job goes on to fail cleanly.
    opts.onNote(
      `exec error: cannot write the script of task ${spec.task} to ${spec.scriptFile}: ${(err as Error).message}`,
    );
    return { exitCode: 127, durationMs: Math.round(performance.now() - start), stopped: false };
  }
  const mark = newTaskMark();
  const sandbox = opts.sandbox?.kind === 'mark' ? undefined : opts.sandbox;
  const ids = switchUser ? { uid: spec.uid, gid: spec.gid } : {};
  const argv = sandbox
    ? containedArgv(sandbox, {
        argv: ['/bin/bash', spec.scriptFile],
        graceMs: opts.graceMs,
        workSource: spec.workSource,
        cwd: sandbox.work ? spec.cwdInside : undefined,
        ...(sandbox.kind === 'pid-namespace' ? ids : {}),
      })
    : ['/bin/bash', spec.scriptFile];
  if (sandbox?.work && sandbox.keep && spec.workSource) {
    // The mount point of what the task still needs under /work (sandbox.keep), in its folder.
    try {
      mkdirSync(join(spec.workSource, relative(BUILDOMAT_WORK, sandbox.keep)), { recursive: true, mode: 0o755 });
    } catch (err) {
      opts.onNote(`exec warning: cannot keep ${sandbox.keep} reachable under /work: ${(err as Error).message}`);
    }
  }
  // its own session and process group: pgid = pid
  const started = await spawnInGroup(argv[0], argv.slice(1), {
    cwd: spec.cwd,
    env: { ...spec.env, [TASK_MARK_ENV]: mark },
    // fd 3: the namespace's init lists what the script left running (task-sandbox.ts)
    stdio: ['ignore', 'pipe', 'pipe', sandbox ? 'pipe' : 'ignore'],
    // In a PID namespace the init switches to the task user itself, after mounting /work.
    ...(sandbox ? {} : ids),
  });
  if (!started.ok) {
    opts.onNote(`exec error: could not start the task: ${spawnProblem(started.error, spec.env)}`);
    return { exitCode: 127, durationMs: Math.round(performance.now() - start), stopped: false };
  }
  const { child: sub, pid: pgid } = started;
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    sub.once('exit', (code, signal) => resolve([code, signal]));
    sub.once('error', () => resolve([127, null]));
  });
  try {
    writeRunningTask(opts.agentDir, { pgid, job: spec.job, task: spec.task, mark });
  } catch (err) {
    // The record only helps whoever cleans up after a killed agent; this agent still tracks the
    // group itself, so the task goes on (stopping it here would leave nothing better).
    opts.onNote(
      `exec warning: cannot record the running task's process group (${(err as Error).message}); if this agent dies, its task group may be left running`,
    );
  }
  const log = opts.log.child({ task: spec.task, pgid });
  log.debug('task started');

  const drained = Promise.all([
    readLines(sub.stdout!, (l) => opts.onLine('stdout', l), opts.maxLineBytes),
    readLines(sub.stderr!, (l) => opts.onLine('stderr', l), opts.maxLineBytes),
  ]);
  const leftBehind: Escaped[] = [];
  const reported = sandbox
    ? readLines(sub.stdio[3] as Readable, (l) => leftBehind.push(...parseLeft(l)), 4096)
    : Promise.resolve();

  let stopping: Promise<StopResult> | undefined;
  const onAbort = () => {
    log.info({ graceMs: opts.graceMs }, 'stopping the task process group');
    stopping = stopProcessGroup(pgid, opts.graceMs).then((r) => {
      log.info(r, 'task process group stopped');
      return r;
    });
  };
  if (opts.signal.aborted) onAbort();
  else opts.signal.addEventListener('abort', onAbort, { once: true });
  const onForce = () => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  opts.force?.addEventListener('abort', onForce, { once: true });

  // The script's own exit, not the pipes' closing: a process the script left behind may hold them open.
  const [code, sigName] = await exited;
  const durationMs = Math.round(performance.now() - start);
  opts.signal.removeEventListener('abort', onAbort);
  opts.force?.removeEventListener('abort', onForce);

  const stopped = stopping !== undefined;
  let stop: StopResult | undefined;
  if (stopping) {
    stop = await stopping;
  } else if (groupAlive(pgid)) {
    // The script is gone; whatever it left in its group must not outlive the task.
    if (!sandbox) opts.onNote('stopping processes the task left running');
    stop = await stopProcessGroup(pgid, opts.graceMs);
  }
  if (sandbox) {
    // The namespace is gone with its init: the kernel killed whatever was left in it. Its init
    // said what that was, before stopping it.
    // Only the init (and the tools it runs) hold that pipe: it closes as the namespace ends.
    await Promise.race([reported, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (leftBehind.length > 0) {
      log.warn({ escaped: leftBehind }, 'stopped processes the task left running');
      opts.onNote(
        `exec warning: stopped ${plural(leftBehind.length)} the task left running (its PID namespace ended with it): ${leftBehind.map((e) => `${e.pid} (${e.command})`).join(', ')}`,
      );
    }
  } else {
    // Whatever the task started in sessions of its own (setsid) is not in its group: stop it too,
    // and say what it was.
    const escaped = await stopEscaped(mark, opts.force?.aborted ? 0 : opts.graceMs);
    if (escaped.length > 0) {
      log.warn({ escaped }, 'stopped processes the task started outside its process group');
      opts.onNote(
        `exec warning: stopped ${plural(escaped.length)} the task left running outside its process group (setsid): ${escaped.map((e) => `${e.pid} (${e.command})`).join(', ')}`,
      );
    }
  }
  // A process that left the group may still hold the pipes: do not wait for it forever.
  const timer = setTimeout(() => {
    opts.onNote('exec warning: the output of the task stayed open after it exited; closing it');
    sub.stdout?.destroy();
    sub.stderr?.destroy();
  }, 5000);
  await drained;
  clearTimeout(timer);
  if (groupAlive(pgid)) {
    // Clearing the record would tell the factory the testbed is free while the group still
    // drives it: keep it, and say why.
    const why = stop?.reason ?? `process group ${pgid} is still there`;
    log.error({ stop }, `the task process group could not be stopped: ${INSTANCE_FILES.runningTask} kept`);
    opts.onNote(
      `exec error: the task's processes could not be stopped (${why}); ${INSTANCE_FILES.runningTask} is kept so the testbed stays out of service until they are gone`,
    );
  } else clearRunningTask(opts.agentDir);

  const sig = sigName ?? undefined;
  const exitCode = code ?? (sig ? 128 + (SIGNALS[sig] ?? 0) : 255);
  if (sig) opts.onNote(`exec warning: task terminated by signal ${sig}`);
  log.debug({ exitCode, signal: sig, durationMs }, 'task exited');
  return { exitCode, signal: sig, durationMs, stopped };
}

function plural(n: number): string {
  return `${n} process${n === 1 ? '' : 'es'}`;
}

/** A line of the namespace init's report: "left /proc/PID CMDLINE" (pids as the namespace sees them). */
function parseLeft(line: string): Escaped[] {
  const m = /^left \/proc\/(\d+) ?(.*)$/.exec(line);
  return m ? [{ pid: Number(m[1]), command: m[2].trim().slice(0, 120) || '?' }] : [];
}

/** Why the task could not start, in words a job's author can act on. */
function spawnProblem(r: { message?: string; code?: string }, env: Record<string, string>): string {
  if (r.code === 'E2BIG' || /E2BIG/.test(r.message ?? '')) {
    const entries = Object.entries(env);
    const bytes = entries.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 2, 0);
    const largest = entries.reduce(
      (m, [k, v]) => (Buffer.byteLength(v) > Buffer.byteLength(m[1]) ? [k, v] : m),
      ['', ''],
    );
    return (
      `its environment is too large for exec (E2BIG): ${entries.length} variables, ${bytes} bytes in all, the largest ${largest[0]} (${Buffer.byteLength(largest[1])} bytes). ` +
      'Linux allows at most 128 KiB per variable and about 2 MiB for the environment and arguments together: pass large data as an input file instead'
    );
  }
  return r.message ?? 'unknown error';
}

function readLines(stream: Readable, emit: (line: string) => void, maxBytes?: number): Promise<void> {
  const splitter = new LineSplitter(emit, maxBytes);
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => splitter.push(chunk));
    stream.once('close', () => {
      splitter.end();
      resolve();
    });
    stream.once('error', () => {
      splitter.end();
      resolve();
    });
  });
}

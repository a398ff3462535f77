// Runs one task: its script under bash, in its own process group, output split into lines.
// While it runs, `running-task.json` names its process group. When the script exits, anything it
// left running in its group is stopped too; when `signal` aborts, the whole group is stopped
// (SIGTERM, then SIGKILL after the grace period).
import { chownSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { groupAlive, stopProcessGroup } from '../shared/process-tree.js';
import { spawnInGroup } from '../shared/spawn.js';
import { LineSplitter } from './lines.js';
import { newTaskMark, stopEscaped, TASK_MARK_ENV } from '../shared/escaped-processes.js';
import { clearRunningTask, writeRunningTask } from './marker.js';

export interface TaskSpec {
  job: string;
  task: number;
  script: string;
  scriptFile: string;
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
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
  // its own session and process group: pgid = pid
  const started = await spawnInGroup('/bin/bash', [spec.scriptFile], {
    cwd: spec.cwd,
    env: { ...spec.env, [TASK_MARK_ENV]: mark },
    ...(switchUser ? { uid: spec.uid, gid: spec.gid } : {}),
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

  let stopping: Promise<unknown> | undefined;
  const onAbort = () => {
    log.info({ graceMs: opts.graceMs }, 'stopping the task process group');
    stopping = stopProcessGroup(pgid, opts.graceMs).then((r) => log.info(r, 'task process group stopped'));
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
  if (stopping) {
    await stopping;
  } else if (groupAlive(pgid)) {
    // The script is gone; whatever it left in its group must not outlive the task.
    opts.onNote('stopping processes the task left running');
    await stopProcessGroup(pgid, opts.graceMs);
  }
  // Whatever the task started in sessions of its own (setsid) is not in its group: stop it too,
  // and say what it was.
  const escaped = await stopEscaped(mark, opts.force?.aborted ? 0 : opts.graceMs);
  if (escaped.length > 0) {
    log.warn({ escaped }, 'stopped processes the task started outside its process group');
    opts.onNote(
      `exec warning: stopped ${escaped.length} process${escaped.length === 1 ? '' : 'es'} the task left running outside its process group (setsid): ${escaped.map((e) => `${e.pid} (${e.command})`).join(', ')}`,
    );
  }
  // A process that left the group may still hold the pipes: do not wait for it forever.
  const timer = setTimeout(() => {
    opts.onNote('exec warning: the output of the task stayed open after it exited; closing it');
    sub.stdout?.destroy();
    sub.stderr?.destroy();
  }, 5000);
  await drained;
  clearTimeout(timer);
  clearRunningTask(opts.agentDir);

  const sig = sigName ?? undefined;
  const exitCode = code ?? (sig ? 128 + (SIGNALS[sig] ?? 0) : 255);
  if (sig) opts.onNote(`exec warning: task terminated by signal ${sig}`);
  log.debug({ exitCode, signal: sig, durationMs }, 'task exited');
  return { exitCode, signal: sig, durationMs, stopped };
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

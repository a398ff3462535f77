// Runs one job: inputs, then each task in order (the rest skipped after a failure), then outputs,
// then completion — with every step reported as events. `signal` aborting (cancellation, poweroff,
// SIGTERM) stops the running task's process tree; what can still be uploaded and reported within
// the clean-up time is, and the job is completed as failed.
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homedir, userInfo } from 'node:os';
import type { Logger } from 'pino';
import type { WorkerPingJob, WorkerPingTask } from '../shared/api/types.js';
import type { WorkerClient } from '../shared/buildomat/worker.js';
import { ApiError, describeError } from '../shared/errors.js';
import { persist } from '../shared/retry.js';
import { anySignal } from '../shared/sleep.js';
import { EventStream } from './events.js';
import { downloadInputs } from './inputs.js';
import { fromPing, WorkPaths } from './output-rules.js';
import { uploadOutputs } from './outputs.js';
import { EventSpool } from './spool.js';
import { buildTaskEnv, type HostEnv, type JobDirs } from './task-env.js';
import { runTask } from './task.js';
import { blockingAncestor, giveTo, type TaskUser } from './task-user.js';
import { BUILDOMAT_WORK, describeSandbox, type TaskSandbox } from './task-sandbox.js';

export interface JobRunOptions {
  client: WorkerClient;
  job: WorkerPingJob;
  agentDir: string;
  testbed?: string;
  log: Logger;
  /** Aborts when the job must stop (cancelled, poweroff, SIGTERM). */
  signal: AbortSignal;
  /** Aborts when even clean-up must stop (a second SIGTERM). */
  force?: AbortSignal;
  graceMs: number;
  /** Time allowed for uploads and reports after the job was stopped, ms. */
  cleanupMs?: number;
  /** Extra PATH entries put first (where `mvm` itself can be found). */
  pathPrefix?: string[];
  spoolMemoryBytes?: number;
  flushMs?: number;
  /** The user tasks run as (`task_user`), or why they cannot run as it (the job then fails). */
  taskUser?: { user?: TaskUser; problem?: string };
  /** How tasks are contained (task-sandbox.ts); default: marked only. */
  sandbox?: TaskSandbox;
}

export type JobOutcome = 'succeeded' | 'failed' | 'stopped';

export interface JobResult {
  outcome: JobOutcome;
  /** Why it stopped, when it did. */
  reason?: string;
}

export function jobDirs(agentDir: string, job: string): JobDirs & { jobDir: string } {
  const jobDir = join(agentDir, 'jobs', job);
  const workDir = join(jobDir, 'work');
  return { jobDir, inputDir: join(jobDir, 'input'), workDir, outputDir: join(workDir, 'output') };
}

export function hostEnv(pathPrefix: string[] = [], taskUser?: TaskUser, workDir?: string): HostEnv {
  const path = [...pathPrefix, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'].join(':');
  if (taskUser)
    return {
      home: isDir(taskUser.home) ? taskUser.home : (workDir ?? '/'),
      user: taskUser.name,
      path,
      lang: 'C.UTF-8',
    };
  return { home: process.env.HOME ?? homedir(), user: safeUser(), path, lang: 'C.UTF-8' };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'mvm';
  }
}

export async function runJob(o: JobRunOptions): Promise<JobResult> {
  const { client, job, log } = o;
  const dirs = { ...jobDirs(o.agentDir, job.id), testbed: o.testbed };
  // The job's files are its own: 0700 whatever the umask (with a task user, given to that user).
  for (const d of [dirs.inputDir, dirs.outputDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const taskUser = o.taskUser?.user;
  const isolation = o.taskUser?.problem ?? (taskUser ? isolateJob(dirs, taskUser) : undefined);
  const paths = new WorkPaths(dirs.workDir);

  // `stop` aborts on the caller's signal or when the server drops the job.
  const stop = new AbortController();
  let reason: string | undefined;
  const halt = (why: string) => {
    if (stop.signal.aborted) return;
    reason = why;
    log.warn({ reason: why }, 'stopping the job');
    stop.abort(new Error(why));
  };
  if (o.signal.aborted) halt(String((o.signal.reason as Error)?.message ?? 'stopped'));
  o.signal.addEventListener('abort', () => halt(String((o.signal.reason as Error)?.message ?? 'stopped')), {
    once: true,
  });
  let gone = false;
  const events = new EventStream({
    client,
    job: job.id,
    spool: new EventSpool(join(dirs.jobDir, 'events.spool'), { memoryBytes: o.spoolMemoryBytes }),
    log: log.child({ part: 'events' }),
    flushMs: o.flushMs,
    onGone: () => {
      gone = true;
      halt('the server no longer accepts events for this job (cancelled or completed)');
    },
  });
  const report = (m: string) => events.emit('worker', m);
  // Said first, so that `mvm job show` can name the testbed that ran the job.
  const testbed = testbedName(o.testbed);
  if (testbed) report(`running on testbed ${testbed}`);
  const cleanup = () => anySignal(AbortSignal.timeout(o.cleanupMs ?? 30_000), o.force);

  let failed = false;
  try {
    if (isolation) {
      // Running the tasks as the agent's own user would hand them its token: refuse instead.
      report(`agent error: cannot run tasks as the task user: ${isolation}`);
      failed = true;
    } else {
      failed = await downloadInputs({
        client,
        job: job.id,
        inputs: job.inputs,
        inputDir: dirs.inputDir,
        report,
        log,
        signal: stop.signal,
      });
      if (taskUser) giveTo(dirs.inputDir, taskUser);
    }
    if (o.sandbox?.kind === 'mark') report(`note: ${describeSandbox(o.sandbox)}`);
    const host = hostEnv(o.pathPrefix, taskUser, dirs.workDir);
    for (const task of job.tasks) {
      if (failed || stop.signal.aborted) break;
      const ok = await runOneTask(o, task, {
        events,
        paths,
        dirs,
        host,
        taskUser,
        stop: stop.signal,
        onGone: () => (gone = true),
      });
      if (!ok) failed = true;
    }
  } catch (err) {
    log.error({ err: describeError(err) }, 'job failed in the agent');
    report(`agent error: ${describeError(err)}`);
    failed = true;
  }

  const stopped = stop.signal.aborted;
  if (!gone) {
    const signal = stopped ? cleanup() : o.force;
    try {
      if (
        await uploadOutputs({ client, job: job.id, rules: job.output_rules.map(fromPing), paths, report, log, signal })
      )
        failed = true;
    } catch (err) {
      if (!signal?.aborted) report(`upload error: ${describeError(err)}`);
      failed = true;
    }
    if (stopped) report(`job stopped: ${reason}`);
    await events.flush(stopped ? cleanup() : o.force);
    try {
      await completeJob(client, job.id, failed || stopped, log, stopped ? cleanup() : o.force);
    } catch (err) {
      log.warn({ err: describeError(err) }, 'could not complete the job');
    }
  }
  await events.flush(cleanup());
  await events.close();
  const outcome: JobOutcome = stopped ? 'stopped' : failed ? 'failed' : 'succeeded';
  log.info({ outcome, reason }, 'job finished');
  return { outcome, reason };
}

interface TaskContext {
  events: EventStream;
  paths: WorkPaths;
  dirs: JobDirs & { jobDir: string };
  host: HostEnv;
  taskUser?: TaskUser;
  stop: AbortSignal;
  onGone: () => void;
}

/** A script that uses the path /work (not $MVM_WORK_DIR): "/work/output/x", "cd /work". */
const NAMES_WORK = /(^|[\s'"=:;(])\/work(\/|$|[\s'";)])/m;

/** Runs one task and records its completion; resolves whether it succeeded. */
async function runOneTask(o: JobRunOptions, task: WorkerPingTask, c: TaskContext): Promise<boolean> {
  const { events } = c;
  const log = o.log.child({ task: task.id });
  events.emit('task', `starting task ${task.id}: "${task.name}"`, task.id);
  // Scripts ported from buildomat write to /work itself. Where the agent cannot mount the job's
  // folder there, the folder stands for /work only in cwd, output rules and MVM_* paths: say so
  // before the script runs, not after it failed.
  const work = o.sandbox?.work === true;
  if (!work && NAMES_WORK.test(task.script)) {
    events.emit(
      'worker',
      `note: this script names /work, which is not the job's folder on this agent (it is ${c.dirs.workDir}; ${workLimit(o.sandbox)}); use $MVM_WORK_DIR and $MVM_OUTPUT_DIR (which the output rules' /work/output stands for), or relative paths (tasks start in it)`,
      task.id,
    );
  }
  const cwd = c.paths.toLocal(task.workdir || '/work');
  if (cwd.startsWith(c.dirs.workDir) && !isDir(cwd)) {
    const first = mkdirSync(cwd, { recursive: true, mode: 0o700 });
    // Only the folders just made: earlier tasks wrote the rest, and chowning what a task left
    // there (a hard link to a root-owned file, say) would hand it to the task user.
    if (c.taskUser && first)
      for (let d = cwd; d.length >= first.length; d = dirname(d)) chownSync(d, c.taskUser.uid, c.taskUser.gid);
  }
  let ok: boolean;
  if (!isDir(cwd)) {
    events.emit('worker', `exec error: task ${task.id} working directory ${task.workdir} does not exist`);
    ok = false;
  } else {
    // With the job's folder on /work, the task's MVM_* paths name it there too (pwd agrees).
    const seen = work
      ? { ...c.dirs, workDir: BUILDOMAT_WORK, outputDir: insideWork(c.dirs.outputDir, c.dirs.workDir)! }
      : c.dirs;
    const env = buildTaskEnv(o.job.id, task, c.host, seen);
    const res = await runTask(
      {
        job: o.job.id,
        task: task.id,
        script: task.script,
        scriptFile: join(c.dirs.jobDir, `task-${task.id}.sh`),
        cwd,
        env,
        ...taskIds(task, c.taskUser),
        ...(work ? { workSource: c.dirs.workDir, cwdInside: insideWork(cwd, c.dirs.workDir) } : {}),
      },
      {
        agentDir: o.agentDir,
        onLine: (stream, line) => events.emit(stream, line, task.id),
        onNote: (m) => events.emit('worker', m),
        signal: c.stop,
        force: o.force,
        graceMs: o.graceMs,
        log,
        sandbox: o.sandbox,
      },
    );
    events.emit('task', `process exited: duration ${res.durationMs} ms, exit code ${res.exitCode}`, task.id);
    ok = res.exitCode === 0 && !res.stopped;
  }
  // Everything the task printed reaches the server before its completion does.
  await events.flush(c.stop.aborted ? anySignal(AbortSignal.timeout(o.cleanupMs ?? 30_000), o.force) : o.force);
  if (events.state === 'gone') return false;
  try {
    const signal = c.stop.aborted ? anySignal(AbortSignal.timeout(o.cleanupMs ?? 30_000), o.force) : o.force;
    await persist(() => o.client.completeTask(o.job.id, task.id, !ok, signal), { signal, log, what: 'task complete' });
  } catch (err) {
    const status = err instanceof ApiError ? err.status : undefined;
    if (status === 409 || status === 404) c.onGone();
    log.warn({ err: describeError(err) }, 'could not complete the task');
  }
  return ok;
}

/** Completes the job; a 409 while output commits settle is retried for a while. */
async function completeJob(
  client: WorkerClient,
  job: string,
  failed: boolean,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  await persist(() => client.completeJob(job, failed, signal), {
    signal,
    log,
    what: 'job complete',
    retryAlso: (err) => err instanceof ApiError && err.status === 409 && Date.now() < deadline,
  });
}

/**
 * With a task user, the job's folders are given to it (0700) and the folders above them are
 * searchable but not listable (0711); the job's uid/gid are not used (a job asking for uid 0 would
 * otherwise run as root). Returns why the task user cannot reach its folders, if it cannot.
 */
function isolateJob(dirs: JobDirs & { jobDir: string }, u: TaskUser): string | undefined {
  chmodSync(dirname(dirs.jobDir), 0o711);
  chmodSync(dirs.jobDir, 0o711);
  giveTo(dirs.workDir, u);
  giveTo(dirs.inputDir, u);
  const blocked = blockingAncestor(dirs.workDir, u);
  return blocked
    ? `the folder ${blocked} is not searchable by ${u.name} (uid ${u.uid}); give it mode 0711 or 0755`
    : undefined;
}

/** Why /work is not the job's folder here, for the note. */
function workLimit(sb: TaskSandbox | undefined): string {
  const why = sb?.limits.find((l) => l.includes(BUILDOMAT_WORK)) ?? sb?.limits[0];
  return why ? `the agent cannot mount it there: ${why}` : 'the agent does not mount it there';
}

/** `cwd` (inside the job's work folder) as the task sees it through the bind mount on /work. */
function insideWork(cwd: string, workDir: string): string | undefined {
  if (cwd === workDir) return BUILDOMAT_WORK;
  return cwd.startsWith(workDir + '/') ? BUILDOMAT_WORK + cwd.slice(workDir.length) : undefined;
}

function taskIds(task: WorkerPingTask, u: TaskUser | undefined): { uid?: number; gid?: number } {
  return u ? { uid: u.uid, gid: u.gid } : { uid: task.uid, gid: task.gid };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The name in a testbed description file (its "testbed" key), or undefined. */
function testbedName(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    const name = (JSON.parse(readFileSync(file, 'utf8')) as { testbed?: unknown }).testbed;
    return typeof name === 'string' && name ? name : undefined;
  } catch {
    return undefined;
  }
}

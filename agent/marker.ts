// Records on disk that survive the agent: the started-job mark (a job is never run twice: an agent
// that finds it reports worker failure instead) and the running task's process group (whoever
// cleans up after a SIGKILLed agent stops that group).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { INSTANCE_FILES } from '../shared/contracts/layout.js';
import { runningTaskContract, runningTaskText, type RunningTask } from '../shared/contracts/running-task.js';
import { MvmError } from '../shared/errors.js';

export const STARTED_JOB_FILE = INSTANCE_FILES.startedJob;
export const RUNNING_TASK_FILE = INSTANCE_FILES.runningTask;
export type { RunningTask };

export interface StartedJob {
  job: string;
  name: string;
  worker?: string;
  startedAt: string;
  pid: number;
}

function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MvmError('IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // A torn write still proves the file was created: report what we have.
    return {} as T;
  }
}

/**
 * Creates the started-job mark exclusively (two agents in one workdir cannot both start) and
 * durably: it must survive the host, so that an agent started again in this workdir never runs the
 * job twice. A crash mid-write leaves a torn or empty mark, which still counts (readJson).
 */
function createMark(file: string, data: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `file` whole (a temporary file renamed into place: a reader never sees half of it).
 * Not fsynced: the record is for whoever cleans up after a killed agent, and what it names
 * does not outlive the host either.
 */
function replaceWhole(file: string, data: string): void {
  writeFileSync(file + '.tmp', data, { mode: 0o600 });
  renameSync(file + '.tmp', file);
}

export function readStartedJob(workdir: string): StartedJob | undefined {
  return readJson<StartedJob>(join(workdir, STARTED_JOB_FILE));
}

/** Marks `rec.job` as started; fails if a job was already started in this workdir. */
export function markJobStarted(workdir: string, rec: StartedJob): void {
  try {
    createMark(join(workdir, STARTED_JOB_FILE), JSON.stringify(rec) + '\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new MvmError('CONFLICT', `a job was already started in ${workdir}`, {
        hint: 'an agent never runs a second job in the same workdir; give each worker its own workdir',
        cause: err,
      });
    }
    throw err;
  }
}

/** The running task, when the file is there and valid (a torn write is not trusted). */
export function readRunningTask(workdir: string): RunningTask | undefined {
  const rec = readJson<unknown>(join(workdir, RUNNING_TASK_FILE));
  return runningTaskContract.is(rec) ? rec : undefined;
}

export function writeRunningTask(workdir: string, rec: RunningTask): void {
  replaceWhole(join(workdir, RUNNING_TASK_FILE), runningTaskText(rec));
}

export function clearRunningTask(workdir: string): void {
  rmSync(join(workdir, RUNNING_TASK_FILE), { force: true });
}

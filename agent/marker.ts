// Records on disk that survive the agent: the started-job mark (a job is never run twice: an agent
// that finds it reports worker failure instead) and the running task's process group (whoever
// cleans up after a SIGKILLed agent stops that group).
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
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

/** Writes `data` durably: to a temporary file, fsynced, renamed into place. */
function writeDurably(file: string, data: string, exclusive: boolean): void {
  const fd = openSync(file + '.tmp', 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (exclusive) {
    // Create the mark itself exclusively, so two agents in one workdir cannot both start.
    const mark = openSync(file, 'wx', 0o600);
    try {
      writeSync(mark, data);
      fsyncSync(mark);
    } finally {
      closeSync(mark);
      rmSync(file + '.tmp', { force: true });
    }
    return;
  }
  renameSync(file + '.tmp', file);
}

export function readStartedJob(workdir: string): StartedJob | undefined {
  return readJson<StartedJob>(join(workdir, STARTED_JOB_FILE));
}

/** Marks `rec.job` as started; fails if a job was already started in this workdir. */
export function markJobStarted(workdir: string, rec: StartedJob): void {
  try {
    writeDurably(join(workdir, STARTED_JOB_FILE), JSON.stringify(rec) + '\n', true);
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
  writeDurably(join(workdir, RUNNING_TASK_FILE), runningTaskText(rec), false);
}

export function clearRunningTask(workdir: string): void {
  rmSync(join(workdir, RUNNING_TASK_FILE), { force: true });
}

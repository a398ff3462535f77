// running-task.json: the agent keeps it in its workdir while a task runs, so that whoever cleans
// up after a SIGKILLed agent (the factory, locally or over SSH) stops the task's process group
// and what left it. Written whole (temp file, rename) as one line of JSON.
import { Type, type Static } from '@sinclair/typebox';
import { INSTANCE_FILES } from './layout.js';
import { defineContract } from './validate.js';

export const TASK_MARK_PATTERN = '^task-[0-9a-f-]{36}$';

export const RunningTaskSchema = Type.Object({
  /** The task's process group (the task leads it). Never 0 or 1: those are not a task's group. */
  pgid: Type.Integer({ minimum: 2 }),
  job: Type.String({ minLength: 1 }),
  /** The task's index in the job. */
  task: Type.Integer({ minimum: 0 }),
  /** The mark in every task process's environment, to find what left the group (setsid). */
  mark: Type.Optional(Type.String({ pattern: TASK_MARK_PATTERN })),
});

export type RunningTask = Static<typeof RunningTaskSchema>;

export const runningTaskContract = defineContract(INSTANCE_FILES.runningTask, RunningTaskSchema);

/** The file's text as written: one line (the type is the writer's check; readers validate). */
export function runningTaskText(rec: RunningTask): string {
  return JSON.stringify(rec) + '\n';
}

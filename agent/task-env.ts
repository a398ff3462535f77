// A task's environment, as buildomat builds it: nothing of the agent's own environment leaks in.
// Unless the task asks for env_clear: HOME, USER, LOGNAME, TZ=UTC, PATH, LANG, LC_ALL,
// BUILDOMAT_JOB_ID, BUILDOMAT_TASK_ID and mvm's MVM_* variables; then the task's own env on top
// (it may replace any of them). With env_clear, only the task's own env.
import type { WorkerPingTask } from '../shared/api/types.js';

export interface HostEnv {
  home: string;
  user: string;
  path: string;
  lang: string;
}

export interface JobDirs {
  inputDir: string;
  outputDir: string;
  workDir: string;
  /** The testbed description file, when the agent knows one. */
  testbed?: string;
}

export function buildTaskEnv(
  job: string,
  task: Pick<WorkerPingTask, 'id' | 'env' | 'env_clear'>,
  host: HostEnv,
  dirs: JobDirs,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (!task.env_clear) {
    env.HOME = host.home;
    env.USER = host.user;
    env.LOGNAME = host.user;
    env.TZ = 'UTC';
    env.PATH = host.path;
    env.LANG = host.lang;
    env.LC_ALL = host.lang;
    env.BUILDOMAT_JOB_ID = job;
    env.BUILDOMAT_TASK_ID = String(task.id);
    env.MVM_INPUT_DIR = dirs.inputDir;
    env.MVM_OUTPUT_DIR = dirs.outputDir;
    env.MVM_WORK_DIR = dirs.workDir;
    if (dirs.testbed) env.MVM_TESTBED = dirs.testbed;
  }
  for (const [k, v] of Object.entries(task.env ?? {})) env[k] = v;
  return env;
}

// Turns `mvm agent run` arguments into a running agent: bootstrap source, paths, durations,
// signals. Kept apart from run.ts so the lifecycle stays free of process concerns.
import {
  chmodSync,
  chownSync,
  closeSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  existsSync,
  mkdirSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDuration } from '../shared/duration.js';
import { isAbortError, MvmError } from '../shared/errors.js';
import { rootLogger, type Logger } from '../shared/log.js';
import { MVM_BIN, PROJECT_ROOT } from '../shared/paths.js';
import { installShutdown } from '../shared/shutdown.js';
import { runAgent } from './run.js';
import { prepareWorkdir } from './workdir.js';
import { cannotSwitchUser, openWorkdirTo, resolveTaskUser, taskUserOfTestbed, type TaskUser } from './task-user.js';
import { INSTANCE_FILES } from '../shared/contracts/layout.js';
import { chooseSandbox, describeSandbox, underWork, type ContainmentChoice, type TaskSandbox } from './task-sandbox.js';

export interface AgentArgs {
  url: string;
  workdir: string;
  bootstrap?: string;
  bootstrapFile?: string;
  testbed?: string;
  grace: string;
  busyPing: string;
  spoolMemory: number;
  taskUser?: string;
  containment?: ContainmentChoice;
}

function duration(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new MvmError('USAGE', `--${name} ${JSON.stringify(text)} is not a duration`, {
      hint: 'write e.g. 500ms, 10s or 1m',
    });
  return ms;
}

/** Reads (and deletes) the bootstrap file; the string never appears in the process list. */
function readBootstrapFile(file: string): string {
  let text: string;
  try {
    const mode = statSync(file).mode & 0o777;
    text = readFileSync(file, 'utf8').trim();
    rmSync(file, { force: true });
    if (mode & 0o077)
      rootLogger().warn(
        { file, mode: mode.toString(8) },
        'the bootstrap file is readable by others; it should be mode 0600',
      );
  } catch (err) {
    throw new MvmError('IO', `cannot read the bootstrap file ${file}: ${(err as Error).message}`, {
      hint: 'the factory writes it just before starting the agent; an agent restarted later finds the bootstrap in its workdir',
      cause: err,
    });
  }
  if (text === '')
    throw new MvmError('USAGE', `the bootstrap file ${file} is empty`, {
      hint: 'write the worker bootstrap string into it',
    });
  return text;
}

/** A `mvm` command in PATH for task scripts (they call `mvm runner ...`). */
function mvmShim(workdir: string): string {
  const dir = join(workdir, 'bin');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const shim = join(dir, 'mvm');
  const body = `#!/bin/sh\nexec "${process.execPath}" "${MVM_BIN}" "$@"\n`;
  if (!existsSync(shim) || readFileSync(shim, 'utf8') !== body) writeFileSync(shim, body, { mode: 0o755 });
  return dir;
}

/**
 * Resolves the task user and opens the workdir to it just enough (doc/lab-host.md, the trust
 * model). A problem does not stop the agent: its job fails with the reason, where people look.
 */
function prepareTaskUser(
  name: string | undefined,
  workdir: string,
  testbed: string | undefined,
): { user?: TaskUser; problem?: string } | undefined {
  if (name === undefined) return undefined;
  try {
    const why = cannotSwitchUser();
    if (why) return { problem: `${why} (task_user = "${name}")` };
    const user = resolveTaskUser(name);
    openWorkdirTo(workdir);
    // The runner, run by the job's tasks, appends its infrastructure-failure report beside the
    // testbed description: that one file is the task user's to write.
    if (testbed) {
      const report = join(dirname(testbed), INSTANCE_FILES.infraReport);
      closeSync(openSync(report, 'a', 0o600));
      chownSync(report, user.uid, user.gid);
    }
    return { user };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

/** --containment, else MVM_TASK_CONTAINMENT (an SSH testbed's remote_command can set it), else auto. */
function containmentChoice(flag: ContainmentChoice | undefined): ContainmentChoice {
  if (flag) return flag;
  const env = process.env.MVM_TASK_CONTAINMENT;
  if (env === undefined || env === '' || env === 'auto' || env === 'mark') return (env || 'auto') as ContainmentChoice;
  throw new MvmError('USAGE', `MVM_TASK_CONTAINMENT=${JSON.stringify(env)} is not a containment`, {
    hint: 'write auto or mark (or leave it unset)',
  });
}

/** How this agent's tasks are contained, said once in its log. */
async function prepareSandbox(choice: ContainmentChoice, workdir: string, log: Logger): Promise<TaskSandbox> {
  const sandbox = await chooseSandbox(choice);
  if (sandbox.work && underWork(workdir)) {
    // The task's scripts and inputs live in the workdir: covering /work would hide them.
    sandbox.work = false;
    sandbox.limits.push(`the agent's workdir ${workdir} is under /work, which the job's folder would cover`);
  }
  // mvm itself installed under /work (a checkout there): tasks that run `mvm` must still find it.
  if (sandbox.work && underWork(PROJECT_ROOT) && PROJECT_ROOT !== '/work') sandbox.keep = PROJECT_ROOT;
  if (sandbox.kind === 'mark')
    log.warn({ containment: sandbox.kind, limits: sandbox.limits }, describeSandbox(sandbox));
  else log.info({ containment: sandbox.kind, work: sandbox.work, limits: sandbox.limits }, describeSandbox(sandbox));
  return sandbox;
}

export async function agentMain(args: AgentArgs): Promise<void> {
  const workdir = resolve(args.workdir);
  const graceMs = duration('grace', args.grace);
  const busyPingMs = duration('busy-ping', args.busyPing);
  let url: URL;
  try {
    url = new URL(args.url);
  } catch {
    throw new MvmError('USAGE', `--url ${JSON.stringify(args.url)} is not a URL`, {
      hint: 'write e.g. http://127.0.0.1:9300',
    });
  }
  const bootstrap = args.bootstrapFile
    ? readBootstrapFile(args.bootstrapFile)
    : (args.bootstrap ?? process.env.MVM_BOOTSTRAP);
  prepareWorkdir(workdir);
  const defaultTestbed = join(workdir, INSTANCE_FILES.testbed);
  const testbed = args.testbed ? resolve(args.testbed) : existsSync(defaultTestbed) ? defaultTestbed : undefined;
  if (testbed && !existsSync(testbed)) {
    throw new MvmError('USAGE', `the testbed description ${testbed} does not exist`, {
      hint: 'pass --testbed the file the factory wrote',
    });
  }
  const log = rootLogger().child({ component: 'agent' });
  const taskUser = prepareTaskUser(args.taskUser ?? taskUserOfTestbed(testbed), workdir, testbed);
  if (taskUser?.user) log.info({ taskUser: taskUser.user.name, uid: taskUser.user.uid }, 'tasks run as the task user');
  if (taskUser?.problem)
    log.error({ problem: taskUser.problem }, 'tasks cannot run as the task user; the job will fail');
  // Probed while the agent bootstraps and waits for its job: the first task waits for the answer.
  const sandbox = prepareSandbox(containmentChoice(args.containment), workdir, log);
  sandbox.catch(() => {}); // a failed probe is reported where the job awaits it, not as an unhandled rejection
  const shutdown = installShutdown(log);
  try {
    const result = await runAgent({
      url: url.toString().replace(/\/+$/, ''),
      workdir,
      bootstrap: bootstrap || undefined,
      testbed,
      log,
      signal: shutdown.graceful,
      force: shutdown.force,
      graceMs,
      busyPingMs,
      spoolMemoryBytes: args.spoolMemory,
      pathPrefix: [mvmShim(workdir)],
      taskUser,
      sandbox,
    });
    log.info({ ...result }, 'agent exiting');
  } catch (err) {
    // SIGTERM before a job was assigned (e.g. while bootstrapping) is a normal way to end.
    if (!(isAbortError(err) && shutdown.graceful.aborted)) throw err;
    log.info('stopped before a job was assigned');
  } finally {
    shutdown.dispose();
  }
}

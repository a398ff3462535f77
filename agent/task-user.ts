// The unprivileged user a testbed's tasks run as (`task_user` in the factory config, handed over in
// testbed.json or with --task-user). The agent keeps its own state (agent-state.json: its token)
// readable by itself only, and gives the task user exactly its job's folders: a job cannot read
// its agent's token, nor another instance's state, nor another testbed's job folders.
import { chmodSync, chownSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MvmError } from '../shared/errors.js';
import { lookupUser, type PasswdEntry } from '../shared/passwd.js';

/** The password entry of the task user; tasks get its home as HOME when that exists. */
export type TaskUser = PasswdEntry;

/** Looks the user up and checks it is fit to run tasks; throws a clear error when it is not. */
export function resolveTaskUser(name: string): TaskUser {
  const u = lookupUser(name);
  if (!u) {
    throw new MvmError('USAGE', `the task user "${name}" does not exist on this host`, {
      hint: `create it (useradd --system --no-create-home --shell /usr/sbin/nologin ${name}) or change task_user in the factory config`,
    });
  }
  if (u.uid === 0)
    throw new MvmError('USAGE', `the task user "${name}" is root (uid 0): tasks would reach everything`, {
      hint: 'give task_user an unprivileged user of its own',
    });
  if (u.uid === process.getuid?.()) {
    throw new MvmError('USAGE', `the task user "${name}" is the agent's own user: tasks could read the agent's token`, {
      hint: "give task_user a user of its own, not the factory's",
    });
  }
  return u;
}

/** Why this agent cannot switch to another user for its tasks, or undefined when it can. */
export function cannotSwitchUser(): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  return `the agent runs as uid ${process.getuid?.()}, and only root can run tasks as another user`;
}

/**
 * The agent's workdir: traversable (0711) but not listable by the task user, so the task reaches
 * its job folder and the `mvm` shim by path and nothing else. Its files stay the agent's (0600).
 */
export function openWorkdirTo(workdir: string): void {
  chmodSync(workdir, 0o711);
}

/**
 * Whether `uid`/`gid` can walk down to `dir` (every ancestor searchable). Returns the first folder
 * that stops it.
 */
export function blockingAncestor(dir: string, u: TaskUser): string | undefined {
  let d = dir;
  for (;;) {
    const parent = dirname(d);
    if (parent === d) return undefined;
    d = parent;
    const st = statSync(d);
    const ok = st.uid === u.uid ? st.mode & 0o100 : st.gid === u.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!ok) return d;
  }
}

/** Gives `path` (and, for a folder, everything in it) to the task user, not following symlinks. */
export function giveTo(path: string, u: TaskUser): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  chownSync(path, u.uid, u.gid);
  if (st.isDirectory()) {
    chmodSync(path, 0o700);
    for (const e of readdirSync(path)) giveTo(join(path, e), u);
  }
}

/** The task user named in a testbed description (`task_user`), if any. */
export function taskUserOfTestbed(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { task_user?: unknown }).task_user;
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
}

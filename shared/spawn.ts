// The one way mvm starts a program: node's spawn, argv only (never a shell), the program in a
// process group of its own so that one signal reaches everything it starts, the environment
// exactly as given. Resolves once the program runs, or with the reason it could not start:
// a missing program (ENOENT) or one not executable (EACCES) come as an 'error' event, an
// environment too large (E2BIG) as a thrown error; callers get both the same way.
//
// Why not execa: the agent's tasks, its own start by the factory and the runner's external
// programs all need what execa does not do (stop a whole process group with a grace period, keep
// only the tail of a long output, stream lines as they come, outlive the parent) and none of what it
// adds (promise result, buffering, rejection on a non-zero exit); loading it cost about 100 ms of
// CPU in each process that did (twice node's own start), which is why the agent had loaded it lazily.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export interface SpawnInGroupOptions {
  cwd?: string;
  /** The whole environment of the program (nothing is added from this process's). */
  env: NodeJS.ProcessEnv;
  /** Default: stdin ignored, stdout and stderr piped. */
  stdio?: StdioOptions;
  uid?: number;
  gid?: number;
}

export type Spawned =
  | { ok: true; child: ChildProcess; /** also the process group id */ pid: number }
  | { ok: false; error: NodeJS.ErrnoException };

export async function spawnInGroup(file: string, args: string[], opts: SpawnInGroupOptions): Promise<Spawned> {
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
      detached: true, // a session and process group of its own: pgid = pid
      shell: false,
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
  } catch (err) {
    return { ok: false, error: err as NodeJS.ErrnoException };
  }
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', resolve);
  });
  if (error || child.pid === undefined) return { ok: false, error: error ?? new Error(`${file}: no process id`) };
  return { ok: true, child, pid: child.pid };
}

// The shell scripts for the restore and health-check runners the factory runs on a testbed host
// (the agents' scripts are in remote-scripts.ts; the same rules: constants, inputs only as
// quoted positional parameters, POSIX sh). Each runner carries a tag in its environment so a
// restarted factory can find the runners a crashed one left running there and stop them.
import type { SshConnection } from './connection.js';
import { SshError } from './errors.js';
import { shellScript } from './quote.js';
// The scripts themselves (RUN_TAGGED_RUNNER, STOP_TAGGED_RUNNERS) are constants in remote-scripts.ts.
import { STOP_TAGGED_RUNNERS } from './remote-scripts.js';

/** The environment variable that marks a factory's runner: `<remote workdir>|<testbed>`. */
export const RUNNER_TAG_ENV = 'MVM_RUNNER_TAG';

/** Stops the runners tagged `tag` on the host (STOP_TAGGED_RUNNERS): each group's leader pid and how it ended. */
export async function stopTaggedRunners(
  conn: SshConnection,
  tag: string,
  signal?: AbortSignal,
): Promise<Array<{ pid: number; outcome: string }>> {
  const r = await conn.exec(shellScript(STOP_TAGGED_RUNNERS, 'mvm-stop-runners', [tag, '5']), {
    signal,
    timeoutMs: 60_000,
  });
  if (r.code !== 0)
    throw new SshError('remote', conn.destination, `cannot stop the runners on the host: ${r.stderr.trim()}`, {
      retryable: true,
    });
  return r.stdout
    .split('\n')
    .map((l) => /^(\d+) (\w+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), outcome: m[2] }));
}

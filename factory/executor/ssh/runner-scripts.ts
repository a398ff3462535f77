// The shell scripts for the restore and health-check runners the factory runs on a testbed host
// (the agents' scripts are in remote-scripts.ts; the same rules: constants, inputs only as
// quoted positional parameters, POSIX sh). Each runner carries a tag in its environment so a
// restarted factory can find the runners a crashed one left running there and stop them.
import type { SshConnection } from './connection.js';
import { SshError } from './errors.js';
import { shellScript } from './quote.js';

/** The environment variable that marks a factory's runner: `<remote workdir>|<testbed>`. */
export const RUNNER_TAG_ENV = 'MVM_RUNNER_TAG';

/**
 * $1 = seconds, $2 = tag, the rest = argv. Bounds the runner on the host itself (coreutils
 * timeout, which gives it a process group of its own; else setsid), so it outlives neither its
 * deadline nor a dropped connection, and marks it with the tag.
 */
export const RUN_TAGGED_RUNNER = String.raw`s=$1; MVM_RUNNER_TAG=$2; export MVM_RUNNER_TAG; shift 2
if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 "$s" "$@"; fi
exec setsid -w "$@"`;

/**
 * $1 = tag, $2 = grace seconds. Finds the process groups led by a process of the SSH user whose
 * environment carries the tag, SIGTERMs them, SIGKILLs what is left after the grace period, and
 * prints one line per group: "<pgid> terminated|killed|stuck".
 */
export const STOP_TAGGED_RUNNERS = String.raw`want="MVM_RUNNER_TAG=$1"; grace=$2
groups=""
for p in $(ls /proc | grep '^[0-9][0-9]*$'); do
  [ "$p" = "$$" ] && continue
  [ -O "/proc/$p" ] || continue
  tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qxF -- "$want" || continue
  g=$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ')
  [ "$g" = "$p" ] && groups="$groups $g"
done
alive() { z=$(ps -eo pgid=,stat= 2>/dev/null); printf '%s\n' "$z" | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; }
for g in $groups; do kill -TERM "-$g" 2>/dev/null; done
deadline=$(($(date +%s) + grace))
for g in $groups; do
  while alive "$g" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
  if ! alive "$g"; then echo "$g terminated"; continue; fi
  kill -KILL "-$g" 2>/dev/null
  n=0
  while alive "$g" && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  if alive "$g"; then echo "$g stuck"; else echo "$g killed"; fi
done
exit 0`;

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

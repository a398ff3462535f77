// The POSIX shell scripts run on testbed hosts. Each is a constant: inputs arrive as positional
// parameters ("$1", …) and are only ever expanded inside double quotes, so no workdir, URL or
// testbed name can change what the script does. Written for dash/busybox as well as bash.

/**
 * Shared functions: boot id, liveness of process groups, files reported verbatim. The scripts do
 * not parse the agent's files (agent.pid, running-task.json): they hand them to the factory as
 * JSON strings and it reads them through their contracts (shared/contracts/).
 */
const COMMON = String.raw`
boot_id() { cat /proc/sys/kernel/random/boot_id 2>/dev/null || true; }
valid_pgid() { case $1 in ''|0*|*[!0-9]*|???????????*) return 1;; esac; [ "$1" -gt 1 ]; }
# Pids of live processes carrying mark $1: what the task started outside its group (setsid).
# Where tasks run in a PID namespace nothing is found: it ended with the task's group.
marked() {
  [ -n "$1" ] || return 0
  ( cd /proc 2>/dev/null || exit 0
    for p in [0-9]*; do
      [ "$p" = "$$" ] && continue
      tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx "MVM_TASK_MARK=$1" || continue
      case $(cat "$p/stat" 2>/dev/null) in *") Z "*|'') continue;; esac
      echo "$p"
    done )
}
# The process groups among the words of $1 that have a live member; zombies do not count (some
# inits never reap). One ps for all groups: on a loaded host every process spawned costs.
live_groups() {
  k=""
  for g in $1; do valid_pgid "$g" && kill -0 "-$g" 2>/dev/null && k="$k $g"; done
  [ -n "$k" ] || return 0
  z=$(ps -eo pgid=,stat= 2>/dev/null) || { printf '%s\n' $k; return 0; }
  printf '%s\n' "$z" | awk -v gs="$k" 'BEGIN { n = split(gs, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 } ($1 in want) && $2 !~ /^Z/ && !seen[$1]++ { print $1 }'
}
groups_alive() { [ -n "$(live_groups "$1")" ]; }
# A file's first line as a JSON string, or null when there is no such file.
json_text() {
  if [ -f "$1" ]; then
    printf '"%s"' "$(head -c 4096 -- "$1" | head -n 1 | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')"
  else printf null; fi
}
now() { date +%s; }
`;

/**
 * $1 = workdir. Fails with a one-line reason on stderr. The workdir must belong to the SSH user
 * and be closed to others: whoever can write there could swap agent.pid and have mvm signal any
 * process group, or read what the agent leaves behind.
 */
export const PREFLIGHT_WORKDIR = String.raw`
for tool in setsid ps awk sed find tr grep; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool is not installed on this host (mvm needs setsid, ps, awk, sed, find, tr and grep to run and supervise agents)" >&2; exit 1; }
done
umask 077
mkdir -p -- "$1" 2>/dev/null || { echo "cannot create the workdir $1 as $(id -un)" >&2; exit 1; }
[ -O "$1" ] || { echo "the workdir $1 is not owned by $(id -un): another user could tamper with the agents' files" >&2; exit 1; }
if [ -n "$(find "$1" -prune \( -perm -0002 -o -perm -0020 \) -print)" ]; then
  echo "the workdir $1 is writable by other users (mode $(ls -ld "$1" | cut -c1-10)): chmod go-w it" >&2; exit 1
fi
probe="$1/.mvm-write-test.$$"
( : > "$probe" ) 2>/dev/null || { echo "the workdir $1 is not writable by $(id -un)" >&2; exit 1; }
rm -f -- "$probe"
`;

/**
 * $1 = workdir, $2 = the agent's process group the factory last saw there ('' for none), $3… =
 * the agent's argv; stdin = the bootstrap string. Writes it to a 0600 file, starts the agent with
 * setsid (own session and process group, whose leader is a wrapper shell that records the
 * agent's exit status), detached from the channel, and prints agent.pid
 * (shared/contracts/agent-pid.ts) once the leader has written it.
 */
export const LAUNCH =
  COMMON +
  String.raw`
w=$1; a=$2; shift 2
umask 077
mkdir -p -- "$w" || exit 1
if [ -n "$a" ] && groups_alive "$a"; then echo "an agent already runs in $w (process group $a); stop it first" >&2; exit 1; fi
rm -f -- "$w/agent.pid" "$w/agent.exit" "$w/running-task.json" "$w/bootstrap"
cat > "$w/bootstrap" || exit 1
umask 022
b=$(boot_id)
# The group leader is a small shell that waits for the agent and records its exit status.
setsid sh -c 'w=$0; printf "{\"pid\":%s,\"pgid\":%s,\"boot_id\":\"%s\"}\n" "$$" "$$" "$1" > "$w/agent.pid.tmp" && mv -f -- "$w/agent.pid.tmp" "$w/agent.pid" && shift && "$@"; echo "$?" > "$w/agent.exit"' "$w" "$b" "$@" </dev/null >>"$w/agent.log" 2>&1 &
deadline=$(($(now) + 30))
while [ ! -s "$w/agent.pid" ]; do
  if [ "$(now)" -gt "$deadline" ]; then echo "the agent did not start within 30 s; see $w/agent.log" >&2; exit 1; fi
  sleep 0.05
done
cat "$w/agent.pid"
`;

/**
 * $1 = workdir. Prints one JSON line (shared/contracts/remote-agent.ts RemoteStatus): the boot
 * id, agent.pid, running-task.json and agent.exit verbatim, and which of the numbers in the first
 * two are live process groups.
 */
export const STATUS =
  COMMON +
  String.raw`
w=$1
nums=$(cat -- "$w/agent.pid" "$w/running-task.json" 2>/dev/null | head -c 8192 | tr -c '0-9' ' ')
live=$(live_groups "$nums" | tr '\n' ',' | sed 's/,$//')
printf '{"boot_id":"%s","live_groups":[%s],"agent_pid":%s,"running_task":%s,"agent_exit":%s}\n' "$(boot_id)" "$live" "$(json_text "$w/agent.pid")" "$(json_text "$w/running-task.json")" "$(json_text "$w/agent.exit")"
`;

/**
 * $1 = workdir, $2 = grace period in seconds, $3 = the running task's mark (may be empty), $4… =
 * the process groups to stop (the agent's and its running task's, as the factory read them from
 * STATUS). SIGTERM, SIGKILL after the grace period (wall clock: a loaded host must not stretch it),
 * then the same for the processes carrying the task's mark (what left its group: setsid). The pid
 * file is then set aside so that a later stop cannot signal a recycled pgid. Prints one JSON line
 * (RemoteStop): the outcome, running-task.json as it is now (a task that started meanwhile is not
 * missed), and how many marked processes were stopped.
 */
export const STOP =
  COMMON +
  String.raw`
w=$1; grace=$2; m=$3; shift 3
groups=""
for g in "$@"; do valid_pgid "$g" && groups="$groups $g"; done
case $m in task-*) ;; *) m="";; esac
signal_all() { for g in $groups; do kill "-$1" "-$g" 2>/dev/null; done; return 0; }
if ! groups_alive "$groups"; then
  outcome=gone
else
  signal_all TERM
  deadline=$(($(now) + grace))
  while groups_alive "$groups" && [ "$(now)" -lt "$deadline" ]; do sleep 0.1; done
  if groups_alive "$groups"; then
    signal_all KILL
    deadline=$(($(now) + 10))
    while groups_alive "$groups" && [ "$(now)" -lt "$deadline" ]; do sleep 0.1; done
    if groups_alive "$groups"; then echo "process group(s) $groups survived SIGKILL" >&2; exit 1; fi
    outcome=killed
  else
    outcome=terminated
  fi
fi
# What the task started in sessions of its own carries its mark: TERM, then KILL after the grace.
e=$(marked "$m"); n=0
if [ -n "$e" ]; then
  for p in $e; do n=$((n + 1)); kill -TERM "$p" 2>/dev/null; done
  deadline=$(($(now) + grace))
  while [ -n "$(marked "$m")" ] && [ "$(now)" -lt "$deadline" ]; do sleep 0.1; done
  for p in $(marked "$m"); do kill -KILL "$p" 2>/dev/null; done
fi
if [ -f "$w/agent.pid" ]; then mv -f -- "$w/agent.pid" "$w/agent.pid.stopped"; fi
printf '{"outcome":"%s","running_task":%s,"escaped":%s}\n' "$outcome" "$(json_text "$w/running-task.json")" "$n"
`;

/** $1 = directory to create (private to the SSH user). */
export const MKDIR = String.raw`umask 077; mkdir -p -- "$1"`;

/**
 * $1 = the agents' root, $2 = an instance workdir to create in it. For a testbed with a task user:
 * the root becomes searchable but not listable (0711), so the task user walks down to its own job
 * folder without seeing the other instances (the agent opens its workdir the same way).
 */
export const MKDIR_FOR_TASK_USER = String.raw`umask 077; mkdir -p -- "$2" && chmod 0711 -- "$1"`;

/** $1 = file. Prints it; prints nothing when it does not exist. */
export const READ_OPTIONAL = String.raw`[ -e "$1" ] || exit 0
exec cat -- "$1"`;

/** $1 = an instance workdir. Removes its job files; the agent's log and testbed.json stay. */
export const REMOVE_JOBS = String.raw`rm -rf -- "$1/jobs"`;

// The restore and health-check runners the factory runs on the host (runner-scripts.ts): each
// carries a tag in its environment so that a restarted factory can stop what a crashed one left.

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

// The testbed's lock file on the host (remote-locks.ts).

/**
 * $1 = lock directory, $2 = file name; stdin = the lock file. Creates the directory (readable by
 * all, its overrides/ writable by all with the sticky bit, as the factory does locally), replaces
 * the file atomically, then prints each override note (one JSON per line) and removes it.
 */
export const PUBLISH_LOCK = String.raw`d=$1
mkdir -p -- "$d/overrides" || exit 1
chmod 0755 "$d" 2>/dev/null; chmod 1777 "$d/overrides" 2>/dev/null
umask 022
cat > "$d/.$2.$$" && mv -f -- "$d/.$2.$$" "$d/$2" || exit 1
for f in "$d"/overrides/*.json; do
  [ -f "$f" ] || continue
  tr -d '\n' < "$f"; echo
  rm -f -- "$f"
done
exit 0`;

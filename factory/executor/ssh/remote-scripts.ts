// The POSIX shell scripts run on testbed hosts. Each is a constant: inputs arrive as positional
// parameters ("$1", …) and are only ever expanded inside double quotes, so no workdir, URL or
// testbed name can change what the script does. Written for dash/busybox as well as bash.

/** Shared functions: boot id, the agent's pgid from its pid file, liveness of a group. */
const COMMON = String.raw`
boot_id() { cat /proc/sys/kernel/random/boot_id 2>/dev/null || true; }
valid_pgid() { case $1 in ''|*[!0-9]*) return 1;; esac; [ "$1" -gt 1 ]; }
# The agent's pgid, if its pid file was written since the host last booted.
agent_pgid() {
  [ -s "$1/agent.pid" ] || return 0
  read -r pid boot < "$1/agent.pid" || true
  valid_pgid "$pid" || return 0
  [ "$boot" = "$(boot_id)" ] && echo "$pid"
  return 0
}
# The process group of the task the agent is running, from running-task.json.
task_pgid() {
  [ -s "$1/running-task.json" ] || return 0
  t=$(sed -n 's/.*"pgid"[^0-9]*\([0-9][0-9]*\).*/\1/p' "$1/running-task.json" | head -n 1)
  valid_pgid "$t" && echo "$t"
  return 0
}
# The mark every process of the running task carries in its environment (agent/task.ts).
task_mark() {
  [ -s "$1/running-task.json" ] || return 0
  sed -n 's/.*"mark"[^"]*"\(task-[0-9a-f-]*\)".*/\1/p' "$1/running-task.json" | head -n 1
}
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
# Whether any of the process groups named in $1 has a live member; zombies do not count (some
# inits never reap). One ps for all groups: on a loaded host every process spawned costs.
groups_alive() {
  k=""
  for g in $1; do kill -0 "-$g" 2>/dev/null && k="$k $g"; done
  [ -n "$k" ] || return 1
  z=$(ps -eo pgid=,stat= 2>/dev/null) || return 0
  printf '%s\n' "$z" | awk -v gs="$k" 'BEGIN { n = split(gs, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 } ($1 in want) && $2 !~ /^Z/ { f = 1 } END { exit !f }'
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
 * $1 = workdir, $2… = the agent's argv; stdin = the bootstrap string. Writes it to a 0600 file,
 * starts the agent with setsid (own session and process group, whose leader is a wrapper shell
 * that records the agent's exit status), detached from the channel, and prints
 * "<leader pid = pgid> <boot id>" once the leader has written the pid file.
 */
export const LAUNCH =
  COMMON +
  String.raw`
w=$1; shift
umask 077
mkdir -p -- "$w" || exit 1
a=$(agent_pgid "$w")
if [ -n "$a" ] && groups_alive "$a"; then echo "an agent already runs in $w (process group $a); stop it first" >&2; exit 1; fi
rm -f -- "$w/agent.pid" "$w/agent.exit" "$w/running-task.json" "$w/bootstrap"
cat > "$w/bootstrap" || exit 1
umask 022
b=$(boot_id)
# The group leader is a small shell that waits for the agent and records its exit status.
setsid sh -c 'w=$0; echo "$$ $1" > "$w/agent.pid.tmp" && mv -f -- "$w/agent.pid.tmp" "$w/agent.pid" && shift && "$@"; echo "$?" > "$w/agent.exit"' "$w" "$b" "$@" </dev/null >>"$w/agent.log" 2>&1 &
deadline=$(($(now) + 30))
while [ ! -s "$w/agent.pid" ]; do
  if [ "$(now)" -gt "$deadline" ]; then echo "the agent did not start within 30 s; see $w/agent.log" >&2; exit 1; fi
  sleep 0.05
done
cat "$w/agent.pid"
`;

/** $1 = workdir. Prints "running|stopped <agent pgid> <task pgid> <agent exit status>". */
export const STATUS =
  COMMON +
  String.raw`
a=$(agent_pgid "$1"); t=""
[ -n "$a" ] && t=$(task_pgid "$1")
st=stopped
groups_alive "$a $t" && st=running
e=""
[ -n "$a" ] && [ -s "$1/agent.exit" ] && read -r e < "$1/agent.exit"
case $e in *[!0-9]*) e="";; esac
echo "$st $a $t $e"
`;

/**
 * $1 = workdir, $2 = grace period in seconds. SIGTERM to the agent's and the running task's
 * groups, SIGKILL after the grace period (wall clock: a loaded host must not stretch it), then the
 * same for the processes carrying the task's mark; prints "gone|terminated|killed <task pgid>
 * <marked processes stopped>". The pid file is then set aside so that a later stop
 * cannot signal a recycled pgid.
 */
export const STOP =
  COMMON +
  String.raw`
w=$1; grace=$2
a=$(agent_pgid "$w"); t=""; m=""
[ -n "$a" ] && t=$(task_pgid "$w") && m=$(task_mark "$w")
groups="$a $t"
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
echo "$outcome $t $n"
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

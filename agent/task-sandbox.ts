// How a task is contained, chosen once when the agent starts. Where the host allows it, each task
// runs in its own PID namespace (util-linux `unshare`): the namespace's init is a small shell
// (TASK_INIT) that runs the script, forwards SIGTERM to everything in the namespace, and when the
// script is done stops what it left — and when that init ends, the kernel kills every process
// left in the namespace, whatever sessions it made or environment it cleared (`setsid`, `env -i`).
// The same namespace gets a private mount table in which the job's folder is bind-mounted on
// /work, as buildomat scripts expect. As root the agent makes the namespace itself; unprivileged,
// inside a user namespace where the kernel allows them. Otherwise tasks are only marked
// (shared/escaped-processes.ts), and what clears its environment cannot be found: the agent says
// so in its log and in each job's log.
import { spawn } from 'node:child_process';
import { accessSync, constants, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';

/** The path a buildomat job's files live under. */
export const BUILDOMAT_WORK = '/work';

export type SandboxKind = 'pid-namespace' | 'user-namespace' | 'mark';

export interface TaskSandbox {
  kind: SandboxKind;
  /** Whether the job's folder can be bind-mounted on /work for its tasks. */
  work: boolean;
  /** Why the stronger containment (or /work) is not available, when it is not. */
  limits: string[];
  /**
   * A folder under /work the tasks still need (mvm itself installed there): it stays reachable at
   * its own path, over an empty folder of the same name made in the job's folder.
   */
  keep?: string;
  /** Absolute paths of the tools TASK_INIT uses (tasks may have no PATH at all). */
  tools?: { unshare: string; mount: string; setpriv: string; sleep: string; tr: string };
}

/** `--containment`: auto picks the strongest the host allows; mark forces the weakest (tests, diagnosis). */
export type ContainmentChoice = 'auto' | 'mark';

/**
 * The namespace's init. $1 grace seconds, $2 the folder to bind on /work ('' for none), $3 the
 * cwd inside ('' to keep), $4/$5 uid/gid to run as ('' to stay), $6… tools (mount setpriv sleep
 * tr), then a folder under /work the task still needs and its path below /work ('' '' for none:
 * it is bound at that path inside the job's folder, which is then bound recursively on /work),
 * then the command. Processes the script left are listed on fd 3 ("left /proc/PID CMDLINE").
 */
export const TASK_INIT = String.raw`g=$1 src=$2 cwd=$3 u=$4 gr=$5 mnt=$6 spv=$7 slp=$8 tr=$9; shift 9
ks=$1 kr=$2; shift 2
if [ -n "$src" ] && [ -n "$ks" ]; then "$mnt" --bind -- "$ks" "$src/$kr" || { echo "mvm: cannot keep $ks reachable" >&2; exit 126; }; fi
if [ -n "$src" ]; then "$mnt" --rbind -- "$src" /work || { echo "mvm: cannot bind the job's folder on /work" >&2; exit 126; }; fi
if [ -n "$cwd" ]; then cd -- "$cwd" || exit 126; fi
if [ -n "$u" ]; then "$spv" --reuid="$u" --regid="$gr" --clear-groups -- "$@" 3>&- & else "$@" 3>&- & fi
c=$!
trap 'kill -TERM -1 2>/dev/null' TERM INT HUP
while :; do wait "$c"; rc=$?; kill -0 "$c" 2>/dev/null || break; done
trap - TERM INT HUP
live() { L=; for p in /proc/[0-9]*; do [ "$p" = /proc/1 ] && continue; s=; read -r s 2>/dev/null < "$p/stat" || continue; case $s in *") Z "*|*") X "*|'') continue;; esac; L="$L $p"; done; }
live
if [ -n "$L" ]; then
  for p in $L; do echo "left $p $("$tr" '\0' ' ' 2>/dev/null < "$p/cmdline")" >&3; done
  kill -TERM -1 2>/dev/null
  n=$((g * 10)); live; while [ "$n" -gt 0 ] && [ -n "$L" ]; do "$slp" 0.1; n=$((n - 1)); live; done
fi
exit "$rc"`;

/** The init is a constant script; every input reaches it as a positional parameter. */
// prettier-ignore
const INIT_SHELL = ['/bin/sh', '-c', TASK_INIT, 'mvm-task-init'];

function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export interface WrapOptions {
  /** The command to contain (e.g. /bin/bash SCRIPT). */
  argv: string[];
  graceMs: number;
  /** The job's folder to bind on /work (when sandbox.work). */
  workSource?: string;
  /** The cwd inside the namespace (e.g. /work/sub). */
  cwd?: string;
  /** The task user (root agents only). */
  uid?: number;
  gid?: number;
}

/** The argv that runs `o.argv` contained by `sb` (the argv itself for `mark`). */
export function containedArgv(sb: TaskSandbox, o: WrapOptions): string[] {
  if (sb.kind === 'mark' || !sb.tools) return o.argv;
  const t = sb.tools;
  const ns = ['--pid', '--fork', '--kill-child', '--mount-proc'];
  const grace = String(Math.max(1, Math.ceil(o.graceMs / 1000)));
  const common = [grace, sb.work ? (o.workSource ?? '') : '', o.cwd ?? ''];
  const keep = sb.work && sb.keep && o.workSource ? [sb.keep, relative(BUILDOMAT_WORK, sb.keep)] : ['', ''];
  if (sb.kind === 'pid-namespace') {
    const ids = o.uid !== undefined ? [String(o.uid), String(o.gid ?? o.uid)] : ['', ''];
    return [
      t.unshare,
      ...ns,
      '--',
      ...INIT_SHELL,
      ...common,
      ...ids,
      t.mount,
      t.setpriv,
      t.sleep,
      t.tr,
      ...keep,
      ...o.argv,
    ];
  }
  // Unprivileged: root inside a user namespace to mount, then a nested one maps the agent's own
  // uid back, so the task sees the same uid it would have had.
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return [
    t.unshare,
    '--user',
    '--map-root-user',
    ...ns,
    '--',
    ...INIT_SHELL,
    ...common,
    '',
    '',
    t.mount,
    t.setpriv,
    t.sleep,
    t.tr,
    ...keep,
    t.unshare,
    '--user',
    `--map-user=${uid}`,
    `--map-group=${gid}`,
    '--',
    ...o.argv,
  ];
}

interface ProbeResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs one probe without blocking the agent (it bootstraps meanwhile); at most 15 s. */
function runProbe(argv: string[]): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 15_000 });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.once('error', (err) => resolve({ status: null, signal: null, stderr: err.message }));
    child.once('close', (status, signal) => resolve({ status, signal, stderr }));
  });
}

/**
 * Probes what this host allows, by running the real thing once: a namespace whose init binds a
 * scratch folder on /work and checks it sees it. Root may create an empty /work mount point.
 * Asynchronous, so the agent starts the probe and bootstraps while it runs: a job needs the
 * answer only when its first task starts.
 */
export async function chooseSandbox(choice: ContainmentChoice = 'auto'): Promise<TaskSandbox> {
  const limits: string[] = [];
  if (choice === 'mark') return { kind: 'mark', work: false, limits: ['containment = mark was asked for'] };
  const tools = {
    unshare: findTool('unshare'),
    mount: findTool('mount'),
    setpriv: findTool('setpriv'),
    sleep: findTool('sleep'),
    tr: findTool('tr'),
  };
  const missing = Object.entries(tools)
    .filter(([, p]) => !p)
    .map(([n]) => n);
  if (process.platform !== 'linux') limits.push('PID namespaces need Linux');
  else if (missing.length > 0) limits.push(`${missing.join(', ')} not found (util-linux and coreutils provide them)`);
  if (limits.length > 0) return { kind: 'mark', work: false, limits };
  const sbTools = tools as NonNullable<TaskSandbox['tools']>;
  const root = process.getuid?.() === 0;
  const kinds: SandboxKind[] = root ? ['pid-namespace', 'user-namespace'] : ['user-namespace'];
  const workReady = prepareWorkMountPoint(root, limits);
  const scratch = mkdtempSync(join(tmpdir(), 'mvm-sandbox-probe-'));
  try {
    writeFileSync(join(scratch, 'probe'), 'ok');
    for (const kind of kinds) {
      const sb: TaskSandbox = { kind, work: workReady, limits, tools: sbTools };
      const argv = containedArgv(sb, {
        argv: workReady ? ['/bin/ls', '/work/probe'] : ['/bin/true'],
        graceMs: 1000,
        workSource: scratch,
        cwd: workReady ? BUILDOMAT_WORK : undefined,
      });
      const r = await runProbe(argv);
      if (r.status === 0) return sb;
      if (workReady) {
        // Perhaps only the bind mount is refused: try the namespace alone.
        const bare = containedArgv({ ...sb, work: false }, { argv: ['/bin/true'], graceMs: 1000 });
        const b = await runProbe(bare);
        if (b.status === 0) {
          limits.push(
            `the job's folder cannot be bind-mounted on /work (${firstLine(r.stderr) || `exit ${r.status}`})`,
          );
          return { ...sb, work: false };
        }
      }
      limits.push(
        `${kind === 'pid-namespace' ? 'unshare --pid' : 'unshare --user --pid'} failed: ${firstLine(r.stderr) || `exit ${r.status ?? r.signal}`}`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { kind: 'mark', work: false, limits };
}

/** Whether /work can serve as a mount point: it is a directory (root creates an empty one). */
function prepareWorkMountPoint(root: boolean, limits: string[]): boolean {
  try {
    const st = lstatSync(BUILDOMAT_WORK);
    if (st.isDirectory()) return true;
    limits.push(`${BUILDOMAT_WORK} exists and is not a directory`);
    return false;
  } catch {
    if (!root) {
      limits.push(`${BUILDOMAT_WORK} does not exist and only root may create it (mkdir -m 0755 ${BUILDOMAT_WORK})`);
      return false;
    }
    try {
      mkdirSync(BUILDOMAT_WORK, { mode: 0o755 });
      return true;
    } catch (err) {
      limits.push(`cannot create ${BUILDOMAT_WORK}: ${(err as Error).message}`);
      return false;
    }
  }
}

function firstLine(s: string | undefined): string {
  return (s ?? '').trim().split('\n')[0]?.slice(0, 200) ?? '';
}

/** Whether `path` is /work or below it (hidden from tasks by the job's folder). */
export function underWork(path: string): boolean {
  return path === BUILDOMAT_WORK || path.startsWith(BUILDOMAT_WORK + '/');
}

/** One line for logs and job notes: what contains this agent's tasks. */
export function describeSandbox(sb: TaskSandbox): string {
  const work = sb.work ? `, the job's folder mounted on ${BUILDOMAT_WORK}` : `, no ${BUILDOMAT_WORK}`;
  if (sb.kind === 'pid-namespace') return `each task in its own PID and mount namespace${work}`;
  if (sb.kind === 'user-namespace') return `each task in its own user, PID and mount namespace${work}`;
  return `tasks marked in their environment only (${sb.limits.join('; ') || 'no namespace'}): a process that leaves the task's process group and clears its environment (setsid with env -i) cannot be found and may outlive the job`;
}

// Processes a task started outside its process group — `setsid sleep 303 &`, a daemon that
// double-forks, one that ignores SIGTERM — would outlive the job, since stopping the task's group
// does not reach them. Every task process carries a mark in its environment (inherited by all it
// starts, whatever sessions it makes); once the task's group is stopped, whatever still carries
// the mark escaped: it is reported and stopped (SIGTERM, then SIGKILL after the grace period).
// A process that replaced its whole environment (env -i) cannot be recognised: that limit is
// stated in doc/agent.md. The factory does the same for a task an agent left behind when it died.
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { processAlive } from './process-tree.js';
import { sleep } from './sleep.js';

export const TASK_MARK_ENV = 'MVM_TASK_MARK';

export function newTaskMark(): string {
  return `task-${randomUUID()}`;
}

export interface Escaped {
  pid: number;
  command: string;
}

/** Live processes carrying `mark` (zombies excluded: they have exited). */
export function findEscaped(mark: string): Escaped[] {
  return findByEnv(TASK_MARK_ENV, mark)
    .filter((pid) => pid !== process.pid && processAlive(pid))
    .map((pid) => ({ pid, command: commandOf(pid) }));
}

/**
 * Stops every process carrying `mark`: SIGTERM, SIGKILL after `graceMs`; repeated while new ones
 * appear (an escaped process may fork as it dies). Resolves with what was found.
 */
export async function stopEscaped(mark: string, graceMs: number): Promise<Escaped[]> {
  const seen = new Map<number, Escaped>();
  for (let round = 0; round < 5; round++) {
    const found = findEscaped(mark);
    if (found.length === 0) break;
    for (const e of found) seen.set(e.pid, e);
    signal(found, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && findEscaped(mark).length > 0) await sleep(50);
    const left = findEscaped(mark);
    if (left.length === 0) continue;
    signal(left, 'SIGKILL');
    const killDeadline = Date.now() + 5000;
    while (Date.now() < killDeadline && findEscaped(mark).length > 0) await sleep(50);
  }
  return [...seen.values()];
}

/** Pids of processes whose environment holds `KEY=value` (readable ones only; Linux). */
export function findByEnv(key: string, value: string): number[] {
  return findByEnvValues(key, [value]).get(value) ?? [];
}

/**
 * For each of `values`, the pids of processes whose environment holds `KEY=value`: one pass over
 * /proc for all of them (a factory looks for each testbed's runners at start).
 */
export function findByEnvValues(key: string, values: Iterable<string>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const v of values) out.set(v, []);
  const name = Buffer.from(`${key}=`);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const env = readEnviron(e);
    if (!env) continue;
    // `KEY=` at the start of an entry (the environment is NUL-separated), its value up to the next NUL.
    for (let at = env.indexOf(name); at >= 0; at = env.indexOf(name, at + 1)) {
      if (at > 0 && env[at - 1] !== 0) continue;
      const start = at + name.length;
      const end = env.indexOf(0, start);
      out.get(env.toString('utf8', start, end < 0 ? env.length : end))?.push(Number(e));
    }
  }
  return out;
}

/**
 * /proc/PID/environ read into one buffer reused from call to call (valid until the next call):
 * a scan reads every process's, and a new buffer for each left megabytes of freed but unreturned
 * native memory in a daemon that scans at start (the factory).
 */
let environBuffer = Buffer.allocUnsafe(16 * 1024);
function readEnviron(pid: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/environ`, 'r');
  } catch {
    return undefined; // gone or not ours
  }
  try {
    let length = 0;
    for (;;) {
      if (length === environBuffer.length) {
        const bigger = Buffer.allocUnsafe(environBuffer.length * 2);
        environBuffer.copy(bigger);
        environBuffer = bigger;
      }
      const n = readSync(fd, environBuffer, length, environBuffer.length - length, null);
      if (n === 0) return environBuffer.subarray(0, length);
      length += n;
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function signal(ps: Escaped[], sig: NodeJS.Signals): void {
  for (const p of ps) {
    try {
      process.kill(p.pid, sig);
    } catch {
      /* gone */
    }
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 120) || '?';
  } catch {
    return '?';
  }
}

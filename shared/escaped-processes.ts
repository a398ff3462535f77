// Processes a task started outside its process group — `setsid sleep 303 &`, a daemon that
// double-forks, one that ignores SIGTERM — would outlive the job, since stopping the task's group
// does not reach them. Every task process carries a mark in its environment (inherited by all it
// starts, whatever sessions it makes); once the task's group is stopped, whatever still carries
// the mark escaped: it is reported and stopped (SIGTERM, then SIGKILL after the grace period).
// A process that replaced its whole environment (env -i) cannot be recognised: that limit is
// stated in doc/agent.md. The factory does the same for a task an agent left behind when it died.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
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
  const needle = Buffer.from(`${key}=${value}\0`);
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const env = readFileSync(`/proc/${e}/environ`);
      if (env.includes(needle)) out.push(Number(e));
    } catch {
      /* gone or not ours */
    }
  }
  return out;
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

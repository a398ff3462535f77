// Leak checks for fault tests. Every process a fault test starts carries a marker in its
// environment (FAULT_MARK=<unique id>): the factory passes its environment to the agents it
// starts, and job tasks get it through the task's own `env` (the agent gives tasks a clean
// environment). After a test, no live process may still carry the marker — whatever was killed,
// whatever was orphaned. Finding processes by environment (not by parentage) also catches
// processes that were re-parented to init when their parent was SIGKILLed.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Test } from 'tap';
import { findByEnv } from '../../../factory/executor/proc.js';
import { processAlive } from '../../../shared/process-tree.js';
import { waitFor } from '../../helpers/mvm-process.js';

export const MARK_ENV = 'FAULT_MARK';

/** A new marker value, unique to one test. */
export function newMark(): string {
  return `fault-${randomUUID()}`;
}

/** Live (non-zombie) processes, other than this one, whose environment holds KEY=value. */
export function liveWithEnv(key: string, value: string): number[] {
  return findByEnv(key, value).filter((pid) => pid !== process.pid && processAlive(pid));
}

/**
 * Live processes, other than this one, whose command line contains `text` — e.g. a test's temp
 * folder, which every agent (`--workdir`) and task (`bash …/task-0.sh`) of the test names.
 */
export function liveWithCmdline(text: string): number[] {
  const needle = Buffer.from(text);
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`).includes(needle) && processAlive(Number(e))) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Asserts that no process carrying `mark` is alive, allowing `graceMs` for processes that are
 * already exiting (a polled condition with a deadline, not a sleep).
 */
export async function assertNoLeaks(t: Test, mark: string, graceMs = 10_000, key = MARK_ENV): Promise<void> {
  await assertNone(t, () => liveWithEnv(key, mark), `no process of the test (${key}=${mark}) is still alive`, graceMs);
}

/** Asserts that `find` comes up empty within `graceMs` (polled), naming what was left. */
export async function assertNone(t: Test, find: () => number[], what: string, graceMs = 10_000): Promise<void> {
  let left: number[] = [];
  try {
    await waitFor(() => (left = find()).length === 0, what, graceMs, 50);
  } catch {
    /* reported below */
  }
  t.same(left.map(describePid), [], what);
}

function describePid(pid: number): string {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`;
  } catch {
    return String(pid);
  }
}

/** SIGKILLs every live process carrying `mark` (teardown safety net; each by its pid). */
export function killMarked(mark: string, key = MARK_ENV): number[] {
  const pids = liveWithEnv(key, mark);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  return pids;
}

// Stopping a whole process tree: every child mvm starts gets its own process group, so one
// signal to the group reaches grandchildren too. Graceful first, forceful after a grace period.
import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './sleep.js';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state letter and process group of `pid` from /proc (Linux), or undefined when gone. */
function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

const HAVE_PROC = (() => {
  try {
    return readdirSync('/proc').length > 0 && procStat(process.pid) !== undefined;
  } catch {
    return false;
  }
})();

/**
 * Whether any live (non-zombie) process is in group `pgid`. Zombies count as gone: where PID 1
 * does not reap orphans (some containers), an exited process lingers as a zombie forever.
 */
export function groupAlive(pgid: number): boolean {
  if (!isAlive(-pgid)) return false;
  if (!HAVE_PROC) return true;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const st = procStat(Number(entry));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') return true;
  }
  return false;
}

/** Whether `pid` runs and is not a zombie. */
export function processAlive(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const st = HAVE_PROC ? procStat(pid) : undefined;
  return st === undefined ? !HAVE_PROC : st.state !== 'Z' && st.state !== 'X';
}

/** Signals the group; the error code when it could not (ESRCH: gone; EPERM: not ours to signal). */
type Signaller = (pgid: number, sig: NodeJS.Signals) => string | undefined;

const signalGroup: Signaller = (pgid, sig) => {
  try {
    process.kill(-pgid, sig);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  }
};

export interface StopResult {
  /**
   * How the group ended: it was already gone, it obeyed SIGTERM, it needed SIGKILL — or it is
   * `stuck`: still there after SIGKILL (uninterruptible sleep) or not ours to signal (EPERM).
   */
  outcome: 'gone' | 'terminated' | 'killed' | 'stuck';
  ms: number;
  /** Why a `stuck` group could not be stopped. */
  reason?: string;
}

export interface StopOptions {
  /** How long to wait for the group to vanish after SIGKILL (default 5 s). */
  killWaitMs?: number;
  /** Injected by tests: signal delivery. */
  signal?: Signaller;
  /** Stops waiting (the signals already sent stay sent): rejects with an AbortError. */
  abort?: AbortSignal;
}

/**
 * Sends SIGTERM to process group `pgid`, waits up to `graceMs` for every member to exit,
 * then SIGKILLs the group and waits for it to disappear.
 */
export async function stopProcessGroup(
  pgid: number,
  graceMs = 10_000,
  pollMs = 50,
  o: StopOptions = {},
): Promise<StopResult> {
  const start = Date.now();
  const send = o.signal ?? signalGroup;
  if (!groupAlive(pgid)) return { outcome: 'gone', ms: 0 };
  const termErr = send(pgid, 'SIGTERM');
  while (termErr !== 'EPERM' && Date.now() - start < graceMs) {
    if (!groupAlive(pgid)) return { outcome: 'terminated', ms: Date.now() - start };
    await sleep(pollMs, o.abort);
  }
  const killErr = send(pgid, 'SIGKILL');
  const killAt = Date.now();
  while (groupAlive(pgid) && Date.now() - killAt < (o.killWaitMs ?? 5000)) await sleep(pollMs, o.abort);
  const ms = Date.now() - start;
  if (!groupAlive(pgid)) return { outcome: 'killed', ms };
  const reason =
    killErr === 'EPERM'
      ? `process group ${pgid} may not be signalled (EPERM: another user's processes)`
      : `process group ${pgid} is still there after SIGKILL (uninterruptible sleep?)`;
  return { outcome: 'stuck', ms, reason };
}

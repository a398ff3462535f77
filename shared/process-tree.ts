// Stopping a whole process tree: every child mvm starts gets its own process group, so one
// signal to the group reaches grandchildren too. Graceful first, forceful after a grace period.
import { sleep } from './sleep.js';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function groupAlive(pgid: number): boolean {
  return isAlive(-pgid);
}

function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

export interface StopResult {
  /** How the group ended: it was already gone, it obeyed SIGTERM, or it needed SIGKILL. */
  outcome: 'gone' | 'terminated' | 'killed';
  ms: number;
}

/**
 * Sends SIGTERM to process group `pgid`, waits up to `graceMs` for every member to exit,
 * then SIGKILLs the group and waits for it to disappear.
 */
export async function stopProcessGroup(pgid: number, graceMs = 10_000, pollMs = 50): Promise<StopResult> {
  const start = Date.now();
  if (!groupAlive(pgid)) return { outcome: 'gone', ms: 0 };
  signalGroup(pgid, 'SIGTERM');
  while (Date.now() - start < graceMs) {
    if (!groupAlive(pgid)) return { outcome: 'terminated', ms: Date.now() - start };
    await sleep(pollMs);
  }
  signalGroup(pgid, 'SIGKILL');
  const killAt = Date.now();
  while (groupAlive(pgid) && Date.now() - killAt < 5000) await sleep(pollMs);
  return { outcome: 'killed', ms: Date.now() - start };
}

// Identifying processes across a factory restart. A pid alone can be reused, so a recorded agent
// is trusted only when its kernel start time still matches (Linux /proc); an agent that started
// before its pid file was written is found by the instance id in its environment.
import { readFileSync } from 'node:fs';
import { isAlive } from '../../shared/process-tree.js';

/** The process's start time in clock ticks since boot (/proc/PID/stat field 22), if readable. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 overall = index 19 after pid and comm
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and is still the process that started at `startTime` (when known). */
export function sameProcessAlive(pid: number, startTime: string | undefined): boolean {
  if (!isAlive(pid) || procState(pid) === 'Z') return false; // a zombie has exited, only not been reaped
  if (startTime === undefined) return true;
  const now = procStartTime(pid);
  return now === undefined || now === startTime;
}

export { findByEnv, findByEnvValues } from '../../shared/escaped-processes.js';

/** The process group of `pid` (/proc/PID/stat field 5). */
export function procGroup(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgid = Number(rest[2]);
    return Number.isInteger(pgid) ? pgid : undefined;
  } catch {
    return undefined;
  }
}

/** The process state letter (/proc/PID/stat field 3: R, S, D, Z, T…), if readable. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

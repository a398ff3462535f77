// Finding what a bench run left behind. Every process a bench starts inherits MVM_BENCH_RUN (the
// server, the factory, the agents the factory starts, simulators); task processes do not (the
// agent gives tasks a clean environment), but they run in a folder under the run's temp folder.
// So a process is the run's if it carries the marker or its working directory is under the run's
// folder. Zombies are dead already and do not count.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { procState } from '../../factory/executor/proc.js';

export const RUN_MARKER = 'MVM_BENCH_RUN';

export interface Leftover {
  pid: number;
  command: string;
}

export function leftoverProcesses(marker: string, root: string, exclude: number[] = [process.pid]): Leftover[] {
  const needle = Buffer.from(`${RUN_MARKER}=${marker}\0`);
  const out: Leftover[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (exclude.includes(pid)) continue;
    try {
      let ours = readFileSync(`/proc/${pid}/environ`).includes(needle);
      if (!ours) {
        const cwd = readlinkSync(`/proc/${pid}/cwd`);
        ours = cwd === root || cwd.startsWith(root + '/');
      }
      const state = procState(pid);
      if (!ours || state === undefined || state === 'Z' || state === 'X') continue;
      out.push({
        pid,
        command: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 200),
      });
    } catch {
      /* gone, or not ours to read */
    }
  }
  return out;
}

/** SIGKILLs each leftover by its PID. */
export function killLeftovers(left: Leftover[]): void {
  for (const l of left) {
    try {
      process.kill(l.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

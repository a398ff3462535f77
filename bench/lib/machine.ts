// What the figures were measured on: printed with every bench line, because a figure means
// little without the machine (and how busy it was) beside it.
import { cpus, loadavg, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  cpu: string;
  memory_mb: number;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench started and when it ended. */
  load_start: number[];
  load_end: number[];
}

export const load = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

export function machine(loadStart: number[]): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memory_mb: Math.round(totalmem() / 1048576),
    node: process.version,
    load_start: loadStart,
    load_end: load(),
  };
}

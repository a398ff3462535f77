// Memory and CPU of a process from /proc/PID/status: VmRSS (now) and VmHWM (the peak since it started,
// which the kernel keeps, so a short spike between two samples is not missed); and its CPU time
// from /proc/PID/stat, to tell which process is the one working hardest.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux everywhere in practice). */
const USER_HZ = 100;

export interface Memory {
  rssKb: number;
  hwmKb: number;
}

export function procMemory(pid: number): Memory | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    const m = { rssKb: get('VmRSS'), hwmKb: get('VmHWM') };
    // A zombie has no memory lines any more: it counts as gone.
    return Number.isFinite(m.rssKb) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The fields of /proc/PID/stat after the command name (field 3 is index 0), or undefined when gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Sum of two clock-tick fields of /proc/PID/stat, in ms. */
function ticksMs(pid: number, a: number, b: number): number | undefined {
  const f = statFields(pid);
  return f ? ((Number(f[a - 3]) + Number(f[b - 3])) * 1000) / USER_HZ : undefined;
}

/** User + system CPU time of `pid` in ms (fields 14 and 15), or undefined when gone. */
export const procCpuMs = (pid: number): number | undefined => ticksMs(pid, 14, 15);

/** CPU time in ms of the children `pid` has waited for (cutime + cstime, fields 16 and 17): the agents a factory started. */
export const procChildrenCpuMs = (pid: number): number | undefined => ticksMs(pid, 16, 17);

export const mb = (kb: number): number => Math.round(kb / 102.4) / 10;

export interface ProcFigures {
  samples: number;
  mean_rss_mb: number;
  max_rss_mb: number;
  /** The kernel's peak (VmHWM) at the last sample. */
  hwm_mb: number;
  /** CPU used between the first and the last sample, in % of one core. */
  cpu_pct: number;
}

interface Seen {
  n: number;
  sum: number;
  max: number;
  hwm: number;
  cpu0: number;
  at0: number;
  cpu: number;
  at: number;
}

/**
 * Samples the memory and CPU time of named processes every `everyMs` until stopped. `pids` is
 * asked at each sample, so a process that appears later (an agent) is picked up when it does.
 */
export class ProcSampler {
  private readonly seen = new Map<string, Seen>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => Record<string, number | undefined>,
    everyMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.pids())) {
      if (pid === undefined) continue;
      const m = procMemory(pid);
      const cpu = procCpuMs(pid);
      if (!m || cpu === undefined) continue;
      const at = performance.now();
      const s = this.seen.get(name) ?? { n: 0, sum: 0, max: 0, hwm: 0, cpu0: cpu, at0: at, cpu, at };
      s.cpu = cpu;
      s.at = at;
      s.n++;
      s.sum += m.rssKb;
      s.max = Math.max(s.max, m.rssKb);
      s.hwm = Math.max(s.hwm, m.hwmKb);
      this.seen.set(name, s);
    }
  }

  /** Stops sampling (after one last sample) and returns the figures per name. */
  stop(): Record<string, ProcFigures> {
    this.sample();
    clearInterval(this.timer);
    const out: Record<string, ProcFigures> = {};
    for (const [name, s] of this.seen) {
      const cpuPct = s.at > s.at0 ? Math.round(((s.cpu - s.cpu0) / (s.at - s.at0)) * 100) : NaN;
      out[name] = {
        samples: s.n,
        mean_rss_mb: mb(s.sum / s.n),
        max_rss_mb: mb(s.max),
        hwm_mb: mb(s.hwm),
        cpu_pct: cpuPct,
      };
    }
    return out;
  }
}

/** The whole machine's CPU (all cores) from /proc/stat: call once at the start, the result at the end. */
export function machineCpu(): () => { busy_pct: number } {
  const read = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0); // idle + iowait
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const start = read();
  return () => {
    const now = read();
    return { busy_pct: Math.round((1 - (now.idle - start.idle) / (now.total - start.total)) * 100) };
  };
}

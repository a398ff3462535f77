// Memory of a process from /proc/PID/status: VmRSS (now) and VmHWM (the peak since it started,
// which the kernel keeps, so a short spike between two samples is not missed).
import { readFileSync } from 'node:fs';

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

export const mb = (kb: number): number => Math.round(kb / 102.4) / 10;

export interface MemoryFigures {
  samples: number;
  mean_rss_mb: number;
  max_rss_mb: number;
  /** The kernel's peak (VmHWM) at the last sample. */
  hwm_mb: number;
}

/**
 * Samples the memory of named processes every `everyMs` until stopped. `pids` is asked at each
 * sample, so a process that appears later (an agent) is picked up when it does.
 */
export class MemorySampler {
  private readonly seen = new Map<string, { n: number; sum: number; max: number; hwm: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pids: () => Record<string, number | undefined>, everyMs = 200) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.pids())) {
      if (pid === undefined) continue;
      const m = procMemory(pid);
      if (!m) continue;
      const s = this.seen.get(name) ?? { n: 0, sum: 0, max: 0, hwm: 0 };
      s.n++;
      s.sum += m.rssKb;
      s.max = Math.max(s.max, m.rssKb);
      s.hwm = Math.max(s.hwm, m.hwmKb);
      this.seen.set(name, s);
    }
  }

  /** Stops sampling (after one last sample) and returns the figures per name. */
  stop(): Record<string, MemoryFigures> {
    this.sample();
    clearInterval(this.timer);
    const out: Record<string, MemoryFigures> = {};
    for (const [name, s] of this.seen) out[name] = { samples: s.n, mean_rss_mb: mb(s.sum / s.n), max_rss_mb: mb(s.max), hwm_mb: mb(s.hwm) };
    return out;
  }
}

// Tasks run in PID namespaces of their own where the host allows (agent/task-sandbox.ts), so the
// pids a task prints ($$, $!) are the namespace's. This finds the host's pids for them: the
// namespace is the one whose unshare process names `needle` (a test's own folder) on its command line.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** Host pids for `nsPids` printed inside the task whose command line names `needle`; `nsPids` when no namespace is in use. */
export function hostPids(nsPids: number[], needle: string): number[] {
  const procs = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  const unshare = procs.find((p) => {
    const c = cmdline(p);
    return c.includes(needle) && c.split('\0')[0]!.endsWith('unshare');
  });
  if (!unshare) return nsPids;
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${unshare}/ns/pid_for_children`);
  } catch {
    return nsPids;
  }
  const out: number[] = [];
  for (const p of procs) {
    try {
      if (readlinkSync(`/proc/${p}/ns/pid`) !== ns) continue;
      const line = readFileSync(`/proc/${p}/status`, 'utf8').match(/^NSpid:\s+(.*)$/m)?.[1];
      const inner = Number(line?.trim().split(/\s+/).at(-1));
      if (nsPids.includes(inner)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

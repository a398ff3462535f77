// How `mvm job list` and `mvm job show` show jobs to a person: ages relative to now, the owner by
// name when it is the caller, the testbed that ran the job, and task states as they really are
// (the buildomat API says "pending" for a task that is running or was cancelled).
import type { Job, JobEvent, JobListEntry } from '../shared/api/types.js';
import { outcome, visible } from './format.js';
import { table } from './table.js';

import { ulidTime } from '../shared/ulid-time.js';

/** "just now", "42s ago", "5m ago", "3h ago", "2d ago". */
export function ago(ms: number, now: number = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 2) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** "45s", "3m 20s", "1h 5m". */
export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** Who the caller is, so that its own id reads as its name. */
export interface Caller {
  id: string;
  name: string;
}

const ownerName = (owner: string, caller?: Caller) => (caller && caller.id === owner ? caller.name : owner);

export function formatJobList(jobs: JobListEntry[], opts: { caller?: Caller; now?: number } = {}): string {
  if (jobs.length === 0) return 'no jobs';
  const now = opts.now ?? Date.now();
  return table(
    ['ID', 'STATE', 'AGE', 'OWNER', 'TARGET', 'NAME'],
    jobs.map((j) => {
      const t = ulidTime(j.id);
      return [
        j.id,
        outcome(j),
        t === undefined ? '-' : ago(t, now),
        ownerName(j.owner, opts.caller),
        j.target,
        visible(j.name),
      ];
    }),
  );
}

/** Task states as they are: the first unfinished task of a running job runs; a cancelled job's do not. */
export function taskStates(job: Job): string[] {
  let running = false;
  return job.tasks.map((t) => {
    if (t.state === 'completed' || t.state === 'failed') return t.state;
    if (job.cancelled) return 'cancelled';
    if (job.state === 'running' && !running) {
      running = true;
      return 'running';
    }
    return job.state === 'running' ? 'waiting' : t.state;
  });
}

/** The testbed a job ran on, as its agent announced it ("running on testbed bench-1"). */
export function testbedOf(events: JobEvent[]): string | undefined {
  for (const e of events) {
    const m = e.stream === 'worker' ? /^running on testbed (\S+)/.exec(e.payload) : null;
    if (m) return m[1];
  }
  return undefined;
}

export function formatJob(job: Job, opts: { caller?: Caller; testbed?: string; now?: number } = {}): string {
  const now = opts.now ?? Date.now();
  const lines = [
    `job      ${job.id}`,
    `name     ${visible(job.name)}`,
    `state    ${outcome(job)}`,
    `target   ${job.target}${job.target_real && job.target_real !== job.target ? ` (runs on ${job.target_real})` : ''}`,
  ];
  if (opts.testbed) lines.push(`testbed  ${visible(opts.testbed)}`);
  lines.push(`owner    ${ownerName(job.owner, opts.caller)}`);
  const times = job.times ?? {};
  const at = (k: string) => (times[k] ? Date.parse(times[k]) : NaN);
  if (times.submit) {
    const parts = [`submitted ${ago(at('submit'), now)}`];
    if (!Number.isNaN(at('assigned'))) parts.push(`waited ${span(at('assigned') - at('submit'))}`);
    if (!Number.isNaN(at('complete')))
      parts.push(`ran ${span(at('complete') - (at('assigned') || at('submit')))}, ended ${ago(at('complete'), now)}`);
    else if (!Number.isNaN(at('assigned'))) parts.push(`running for ${span(now - at('assigned'))}`);
    lines.push(`times    ${parts.join(', ')} (submitted ${times.submit})`);
  }
  const tags = Object.entries(job.tags ?? {});
  if (tags.length) lines.push(`tags     ${tags.map(([k, v]) => `${k}=${visible(v)}`).join(', ')}`);
  if (job.output_rules.length) lines.push(`outputs  ${job.output_rules.join(', ')}`);
  const states = taskStates(job);
  job.tasks.forEach((t, i) => lines.push(`task ${i}   ${states[i].padEnd(10)} ${visible(t.name)}`));
  return lines.join('\n');
}

// How `mvm job` shows jobs, events and outputs to a person. (With --json the API objects are
// printed as they are.) A job's output is untrusted: control characters are made visible so that
// a script cannot drive the reader's terminal.
import { painter } from '../shared/color.js';
import { table } from './table.js';
import type { Job, JobEvent, JobListEntry, JobOutput } from '../shared/api/types.js';

export interface FormatOptions {
  color?: boolean;
}

/** Replaces control characters (other than tab) with visible escapes such as \x1b. */
export function visible(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** "12:34:56" (UTC) from an RFC 3339 time, or the text itself when it does not parse. */
export function clock(time: string): string {
  const d = new Date(time);
  return Number.isNaN(d.getTime()) ? time : d.toISOString().slice(11, 19);
}

/** One event as one line: time, stream (with the task number for task output), payload. */
export function formatEvent(e: JobEvent, opts: FormatOptions = {}): string {
  const paint = painter(Boolean(opts.color));
  const where = e.task === null || e.task === undefined ? e.stream : `${e.stream}.${e.task}`;
  const head = `${clock(e.time)} ${where.padEnd(9)}`;
  const payload = visible(e.payload);
  switch (e.stream) {
    case 'stdout':
      return `${paint.dim(head)} ${payload}`;
    case 'stderr':
      return `${paint.dim(head)} ${paint.red(payload)}`;
    case 'task':
      return paint.bold(`${head} ${payload}`);
    default:
      return paint.yellow(`${head} ${payload}`);
  }
}

/** One event as one JSON line, exactly as the server sent it. */
export function eventJson(e: JobEvent): string {
  return JSON.stringify(e);
}

/** The one-word outcome of a job: queued, waiting, running, completed, failed, cancelled. */
export function outcome(job: Pick<Job, 'state' | 'cancelled'>): string {
  return job.cancelled && job.state === 'failed' ? 'cancelled' : job.state;
}

export function isFinished(job: Pick<Job, 'state'>): boolean {
  return job.state === 'completed' || job.state === 'failed';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatJobList(jobs: JobListEntry[]): string {
  if (jobs.length === 0) return 'no jobs';
  return table(
    ['ID', 'STATE', 'TARGET', 'NAME'],
    jobs.map((j) => [j.id, outcome(j), j.target, visible(j.name)]),
  );
}

export function formatJob(job: Job): string {
  const lines = [
    `job      ${job.id}`,
    `name     ${visible(job.name)}`,
    `state    ${outcome(job)}`,
    `target   ${job.target}${job.target_real && job.target_real !== job.target ? ` (runs on ${job.target_real})` : ''}`,
    `owner    ${job.owner}`,
  ];
  const times = Object.entries(job.times ?? {});
  if (times.length) lines.push(`times    ${times.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const tags = Object.entries(job.tags ?? {});
  if (tags.length) lines.push(`tags     ${tags.map(([k, v]) => `${k}=${visible(v)}`).join(', ')}`);
  if (job.output_rules.length) lines.push(`outputs  ${job.output_rules.join(', ')}`);
  job.tasks.forEach((t, i) => lines.push(`task ${i}   ${t.state.padEnd(10)} ${visible(t.name)}`));
  return lines.join('\n');
}

export function formatOutputs(outputs: JobOutput[]): string {
  if (outputs.length === 0) return 'no outputs';
  return table(
    ['ID', 'SIZE', 'PATH'],
    outputs.map((o) => [o.id, formatBytes(o.size), visible(o.path)]),
  );
}

// What a finished job amounts to, for a person, a script and a CI system: its state, its outputs,
// and its checks — read from the results.json that `mvm runner test` leaves among the outputs
// (named as in its junit.xml), or, for a job without one, its tasks.
import { posix } from 'node:path';
import type { Job, JobOutput } from '../shared/api/types.js';
import type { UserClient } from '../shared/buildomat/user.js';
import { outcome } from './format.js';

export interface CheckOutcome {
  /** The test definition's name (or "task" for a plain job's task). */
  suite: string;
  /** As the JUnit test case is named: "script hashrate.sh", "hashrate [gamma]", "prepare gamma". */
  name: string;
  ok: boolean;
  message: string;
}

export interface JobResult {
  id: string;
  name: string;
  target: string;
  state: string;
  outputs: Array<{ path: string; size: number; file?: string }>;
  checks: CheckOutcome[];
}

/** results.json above this size is not read for checks (it is still downloaded with the outputs). */
const MAX_RESULTS_BYTES = 4 * 1024 * 1024;

interface RunnerReport {
  name?: string;
  error?: string;
  preparation?: Array<{ device?: string; ok?: boolean; message?: string }>;
  script?: { name?: string; argv?: string[]; ok?: boolean; message?: string } | null;
  checks?: Array<{ name?: string; testbedDevice?: string; ok?: boolean; message?: string }>;
}

/** The checks of one runner report, named as its junit.xml names them. */
export function reportChecks(r: RunnerReport): CheckOutcome[] {
  const suite = r.name ?? 'test';
  const out: CheckOutcome[] = [];
  const add = (name: string, ok: boolean | undefined, message: string | undefined) =>
    out.push({ suite, name, ok: ok === true, message: message ?? '' });
  for (const p of r.preparation ?? []) add(`prepare ${p.device}`, p.ok, p.message);
  if (r.error && (r.preparation ?? []).every((p) => p.ok)) add('run', false, r.error);
  if (r.script) {
    const argv = r.script.argv ?? [];
    add(r.script.name ?? `script ${posix.basename(argv[argv.length - 1] ?? '')}`.trim(), r.script.ok, r.script.message);
  }
  for (const c of r.checks ?? []) add(`${c.name} [${c.testbedDevice}]`, c.ok, c.message);
  return out;
}

async function readSmall(client: UserClient, job: string, output: JobOutput): Promise<string> {
  const body = await client.downloadOutput(job, output.id);
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** The checks of a finished job: every results.json output's, else one per task. */
export async function jobChecks(client: UserClient, job: Job, outputs: JobOutput[]): Promise<CheckOutcome[]> {
  const reports = outputs.filter((o) => posix.basename(o.path) === 'results.json' && o.size <= MAX_RESULTS_BYTES);
  const checks: CheckOutcome[] = [];
  for (const o of reports) {
    try {
      checks.push(...reportChecks(JSON.parse(await readSmall(client, job.id, o)) as RunnerReport));
    } catch {
      // Not a runner report (or unreadable): the tasks still say how the job went.
    }
  }
  if (checks.length > 0) return checks;
  return job.tasks.map((t) => ({
    suite: 'task',
    name: t.name,
    ok: t.state === 'completed',
    message: t.state === 'completed' ? 'completed' : job.cancelled ? 'cancelled' : t.state,
  }));
}

export function jobResult(
  job: Job,
  outputs: JobOutput[],
  checks: CheckOutcome[],
  files: Map<string, string> = new Map(),
): JobResult {
  return {
    id: job.id,
    name: job.name,
    target: job.target,
    state: outcome(job),
    outputs: outputs.map((o) => ({
      path: o.path,
      size: o.size,
      ...(files.has(o.path) ? { file: files.get(o.path) } : {}),
    })),
    checks,
  };
}

/** Lines that repeat the failed checks at the end of a run, where a person looks first. */
export function failedCheckLines(result: JobResult): string[] {
  const failed = result.checks.filter((c) => !c.ok);
  if (failed.length === 0) return [];
  return [
    `mvm: ${failed.length} failed check${failed.length === 1 ? '' : 's'}:`,
    ...failed.map((c) => `  FAIL ${c.name}${c.message ? `: ${c.message}` : ''}`),
  ];
}

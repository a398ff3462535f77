// `mvm testbeds why JOB`: why a queued job waits. The job comes from the job server; every lab is
// asked which of its testbeds serve the job's target and what keeps each from taking it, and the
// answer says which lab could take the job now (or which it waits for).
import { MvmError } from '../shared/errors.js';
import { connectUser, explained } from './connect.js';
import type { LabFlags } from './factory-api.js';
import { resolveLabs, type NamedLab } from './labs.js';
import type { ConnectionFlags } from './profile.js';

interface Explanation {
  target: string;
  served: boolean;
  summary: string;
  testbeds: Array<{ name: string; serves: boolean; free: boolean; reasons: Array<{ kind: string; message: string }> }>;
}

type Answer = { lab: NamedLab; e: Explanation; error?: undefined } | { lab: NamedLab; e?: undefined; error: Error };

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

export async function why(a: LabFlags & ConnectionFlags & { json: boolean; job: string }): Promise<void> {
  const { conn, client } = connectUser(a);
  const job = await explained(conn, { job: a.job, doing: 'read the job' }, () => client.getJob(a.job));
  const target = job.target_real || job.target;
  if (job.state !== 'queued') {
    const what =
      {
        running: 'it is running',
        completed: 'it has completed',
        failed: job.cancelled ? 'it was cancelled' : 'it has failed',
      }[job.state] ?? `it is ${job.state}`;
    out(
      a.json
        ? JSON.stringify({ job: job.id, state: job.state, target, waiting: false }, null, 2)
        : `job ${job.id} is not waiting: ${what}`,
    );
    return;
  }
  const labs = resolveLabs(a);
  const answers: Answer[] = await Promise.all(
    labs.map((lab) =>
      lab.client.call<Explanation>('POST', '/v1/explain', `explain target ${target}`, { target }).then(
        (e) => ({ lab, e }),
        (error: Error) => ({ lab, error }),
      ),
    ),
  );
  const since = job.times?.submit ? ` since ${job.times.submit}` : '';
  const head = `job ${job.id} is queued${since} for target ${target}`;
  if (labs.length === 1) {
    if (answers[0].error) throw answers[0].error;
    oneLab(a.json, job.id, job.state, head, answers[0].e, labs[0]);
    return;
  }
  const serving = answers.filter((x) => x.e?.served);
  const free = serving.filter((x) => x.e!.testbeds.some((t) => t.serves && t.free));
  if (a.json) {
    out(
      JSON.stringify(
        {
          job: job.id,
          state: job.state,
          waiting: true,
          target,
          labs: answers.map((x) => (x.e ? { lab: x.lab.name, ...x.e } : { lab: x.lab.name, error: x.error.message })),
          served_by: serving.map((x) => x.lab.name),
          free_in: free.map((x) => x.lab.name),
        },
        null,
        2,
      ),
    );
    return;
  }
  const lines = [`${head}:`];
  for (const x of answers) {
    if (x.error) {
      lines.push(`  lab ${x.lab.name}: cannot ask: ${x.error.message}`);
      continue;
    }
    lines.push(`  lab ${x.lab.name}: ${x.e.served ? x.e.summary : 'serves no such target'}`);
    for (const t of x.e.testbeds.filter((tb) => tb.serves))
      lines.push(
        `    ${t.name}@${x.lab.name}: ${t.free ? 'free' : t.reasons.map((r) => `${r.kind}: ${r.message}`).join('; ')}`,
      );
  }
  if (free.length > 0)
    lines.push(`could take it now: ${free.map((x) => `lab ${x.lab.name}`).join(', ')} (the first to poll leases it)`);
  else if (serving.length > 0)
    lines.push(`it waits for a testbed of ${serving.map((x) => `lab ${x.lab.name}`).join(', ')}`);
  out(lines.join('\n'));
  const unanswered = answers.filter((x) => x.error).length;
  if (serving.length === 0) {
    throw new MvmError('NOT_FOUND', `no lab${unanswered ? ' that answered' : ''} serves target ${target}`, {
      hint: 'the job waits for a factory that serves it: check the target name, or add a testbed for it',
    });
  }
}

/** One lab: its testbeds serving the target and what holds each (the output of a single-lab profile). */
function oneLab(json: boolean, id: string, state: string, head: string, e: Explanation, lab: NamedLab): void {
  if (json) {
    out(JSON.stringify({ job: id, state, waiting: true, ...e }, null, 2));
    return;
  }
  const serving = e.testbeds.filter((t) => t.serves);
  const lines = [`${head}: ${e.summary}`];
  for (const t of serving)
    lines.push(`  ${t.name}: ${t.free ? 'free' : t.reasons.map((r) => `${r.kind}: ${r.message}`).join('; ')}`);
  if (serving.length === 0) {
    lines.push(`  this factory's testbeds serve other targets:`);
    for (const t of e.testbeds) lines.push(`  ${t.name}: ${t.reasons[0]?.message ?? ''}`);
    lines.push('  (another factory may serve it; check the target name, or add a testbed for it)');
  }
  out(lines.join('\n'));
  if (!e.served)
    throw new MvmError('NOT_FOUND', `no testbed of the factory at ${lab.client.conn.url} serves target ${e.target}`, {
      hint: 'the job waits for a factory that serves it',
    });
}

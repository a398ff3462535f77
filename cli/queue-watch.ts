// No silent waits: while a followed job is queued, say why — what the factory API's explanation
// (`mvm testbeds why`) gives — once, and again whenever it changes. Without a factory API to ask,
// say once that the job is queued and how to learn more.
import type { UserClient } from '../shared/buildomat/user.js';
import { describeError } from '../shared/errors.js';
import { sleep } from '../shared/sleep.js';
import type { LabFlags } from './factory-api.js';
import { resolveLabs, type NamedLab } from './labs.js';

/** The part of the factory API's /v1/explain answer used here. */
interface Explanation {
  served: boolean;
  summary: string;
  testbeds: Array<{ name: string; serves: boolean; free: boolean; reasons: Array<{ kind: string; message: string }> }>;
}

export interface QueueWatch {
  client: UserClient;
  job: string;
  lab: LabFlags;
  note: (line: string) => void;
  signal: AbortSignal;
  /** Between looks at the queue (default 5 s). */
  everyMs?: number;
}

/** Why the job waits, in lines: the summary, then each serving testbed and what holds it. */
function describe(head: string, answers: Array<{ lab: NamedLab; e?: Explanation; error?: string }>): string[] {
  const testbeds = (e: Explanation, indent: string) =>
    e.testbeds
      .filter((x) => x.serves)
      .map(
        (t) => `${indent}${t.name}: ${t.free ? 'free' : t.reasons.map((r) => `${r.kind}: ${r.message}`).join('; ')}`,
      );
  const summary = (e: Explanation) => (e.served ? e.summary : 'serves no such target');
  if (answers.length === 1 && answers[0].e)
    return [`${head}: ${summary(answers[0].e)}`, ...testbeds(answers[0].e, '  ')];
  const lines = [`${head}:`];
  for (const a of answers) {
    if (!a.e) lines.push(`  lab ${a.lab.name}: cannot ask: ${a.error}`);
    else lines.push(`  lab ${a.lab.name}: ${summary(a.e)}`, ...testbeds(a.e, '    '));
  }
  return lines;
}

function labsToAsk(flags: LabFlags): NamedLab[] {
  try {
    return resolveLabs(flags);
  } catch {
    return [];
  }
}

export async function watchQueue(w: QueueWatch): Promise<void> {
  const labs = labsToAsk(w.lab);
  let last = '';
  while (!w.signal.aborted) {
    const job = await w.client.getJob(w.job, w.signal).catch(() => undefined);
    if (job && job.state !== 'queued') return;
    if (job) {
      const target = job.target_real || job.target;
      const head = `mvm: job ${job.id} is queued for target ${target}`;
      let text: string;
      if (labs.length === 0) {
        text = `${head} (give the factory API, MVM_LAB_URL or lab_url, to be told why it waits)`;
      } else {
        const answers = await Promise.all(
          labs.map((lab) =>
            lab.client
              .call<Explanation>('POST', '/v1/explain', `explain target ${target}`, { target })
              .then((e) => ({ lab, e }))
              .catch((err: unknown) => ({ lab, error: describeError(err) })),
          ),
        );
        text = describe(head, answers).join('\n');
      }
      if (text !== last) {
        for (const line of text.split('\n')) w.note(line);
        last = text;
      }
    }
    await sleep(w.everyMs ?? 5_000, w.signal).catch(() => undefined);
  }
}

// `mvm job run`: submit a job (one task running a script), upload its inputs, and with --wait
// follow its events live, download its outputs, and exit 0 when it succeeded, 1 otherwise.
import { statSync } from 'node:fs';
import type { Job } from '../shared/api/types.js';
import type { UserClient } from '../shared/buildomat/user.js';
import { ApiError, describeError, MvmError } from '../shared/errors.js';
import { connectUser, explain, explained, type ConnectionFlags } from './connect.js';
import { followEvents } from './follow.js';
import { eventJson, formatBytes, formatEvent, outcome } from './format.js';
import { planInputs, uploadInput } from './inputs.js';
import { processIo, type Io } from './io.js';
import { planJob, type RunArgs } from './job-spec.js';
import type { LabFlags } from './factory-api.js';
import { planTestJob } from './test-job.js';
import { downloadOutputs } from './outputs.js';
import type { Connection } from './profile.js';

export interface JobRunArgs extends RunArgs, ConnectionFlags, LabFlags {
  /** A test definition: its devices pick the target (through the factory API). */
  spec?: string;
  wait?: boolean;
  outputs?: string;
  json?: boolean;
}

export async function runJob(args: JobRunArgs, io: Io = processIo): Promise<void> {
  const plan = args.spec ? await planTestJob({ ...args, spec: args.spec }, (s) => io.note(s)) : planJob(args);
  const wait = Boolean(args.wait || args.outputs);
  if (args.outputs) checkOutputsDir(args.outputs);
  const { conn, client } = connectUser(args);
  for (const n of plan.notes) io.note(`mvm: note: ${n}`);

  const maxBytes = plan.inputs.length ? await maxInputBytes(client, conn) : undefined;
  const inputs = await planInputs(plan.inputs, maxBytes);
  plan.submit.inputs = inputs.map((i) => i.name);

  const submitting = {
    doing: 'submit the job',
    hint: 'check --target and the other options; `mvm admin target list` shows the targets',
  };
  const jobId = await explained(conn, submitting, () => client.submitJob(plan.submit));
  io.note(`mvm: submitted job ${jobId} (${plan.submit.name} on ${plan.submit.target})`);

  if (inputs.length) {
    // Ctrl-C during the upload cancels the job: it would otherwise wait for its inputs forever.
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      for (const input of inputs) {
        await uploadInput(client, jobId, input, { signal: abort.signal });
        io.note(`mvm: uploaded input ${input.name} (${formatBytes(input.size)})`);
      }
    } catch (err) {
      await client.cancel(jobId).catch(() => undefined);
      const why = abort.signal.aborted ? 'interrupted' : describeError(explain(err, conn, { job: jobId }));
      throw new MvmError('IO', `uploading the inputs of job ${jobId} failed, so the job was cancelled: ${why}`, {
        cause: err,
        hint: 'fix the problem and run the job again',
      });
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  }

  if (!wait) {
    io.out(args.json ? JSON.stringify({ id: jobId }) : jobId);
    return;
  }
  const job = await followJob(client, conn, jobId, io, { json: Boolean(args.json), follow: true });
  reportOutcome(job, io);
  if (args.outputs) {
    const files = await explained(conn, { job: jobId, doing: 'download the outputs' }, () =>
      downloadOutputs(client, jobId, args.outputs!, {
        onFile: (d) => io.note(`mvm: output ${d.path} -> ${d.file} (${formatBytes(d.size)})`),
      }),
    );
    if (files.length === 0) io.note(`mvm: job ${jobId} produced no outputs`);
  }
}

/** Refuses an --outputs path that cannot become a directory, before any job is submitted. */
function checkOutputsDir(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) {
      throw new MvmError('USAGE', `--outputs ${dir} exists and is not a directory`, {
        hint: 'name a directory (it is created if missing)',
      });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Prints events as they arrive (human lines or JSON lines) and returns the finished job. Ctrl-C
 * stops following (the job goes on) with a message that says how to pick it up again.
 */
export async function followJob(
  client: UserClient,
  conn: Connection,
  jobId: string,
  io: Io,
  opts: { json: boolean; follow: boolean },
): Promise<Job> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  try {
    const r = await explained(conn, { job: jobId, doing: 'follow the job' }, () =>
      followEvents({
        client,
        job: jobId,
        follow: opts.follow,
        signal: stop.signal,
        onEvent: (e) => io.out(opts.json ? eventJson(e) : formatEvent(e, { color: io.color })),
        onRetry: (err, attempt) => io.note(`mvm: retrying (${attempt}) after: ${describeError(explain(err, conn))}`),
      }),
    );
    return r.job;
  } catch (err) {
    if (stop.signal.aborted) {
      throw new MvmError('ABORTED', `stopped following job ${jobId}; it goes on running on the server`, {
        hint: `follow it again with \`mvm job log ${jobId} --follow\`, or stop it with \`mvm job cancel ${jobId}\``,
      });
    }
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** One line for the person and the exit status: 0 for a job that completed, 1 otherwise. */
export function reportOutcome(job: Job, io: Io): void {
  const result = outcome(job);
  io.note(`mvm: job ${job.id} ${result}`);
  if (result !== 'completed') process.exitCode = 1;
}

/** The server's per-input limit, when it says (a server without the quota call gets no check). */
async function maxInputBytes(client: UserClient, conn: Connection): Promise<number | undefined> {
  try {
    return (await client.quota()).max_bytes_per_input;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw explain(err, conn, { doing: 'read the input quota' });
  }
}

// `mvm job run`: submit a job (one task running a script), upload its inputs, and with --wait
// follow its events live, download its outputs, repeat the failed checks (and report them to GitHub
// Actions), and exit 0 when it succeeded, 1 otherwise (doc/cli.md lists the other statuses).
import { statSync } from 'node:fs';
import type { Job } from '../shared/api/types.js';
import type { UserClient } from '../shared/buildomat/user.js';
import { ApiError, describeError, MvmError } from '../shared/errors.js';
import { connectUser, explain, explained, type ConnectionFlags } from './connect.js';
import { followEvents } from './follow.js';
import { eventJson, formatBytes, formatEvent, outcome } from './format.js';
import { onGithubActions, reportToGithub } from './github.js';
import { cancelsOnInterrupt, inCi, onInterrupt, type InterruptSignal } from './interrupt.js';
import { failedCheckLines, jobChecks, jobResult } from './job-result.js';
import { planInputs, uploadInput } from './inputs.js';
import { processIo, type Io } from './io.js';
import { planJob, type RunArgs } from './job-spec.js';
import type { LabFlags } from './factory-api.js';
import { planTestJob } from './test-job.js';
import { downloadOutputs, flatJunit } from './outputs.js';
import type { Connection } from './profile.js';

export interface JobRunArgs extends RunArgs, ConnectionFlags, LabFlags {
  /** A test definition: its devices pick the target (through the factory API). */
  spec?: string;
  wait?: boolean;
  outputs?: string;
  /** --outputs drops the outputs' common folders (default: when CI=true). */
  flatten?: boolean;
  json?: boolean;
  'cancel-on-interrupt'?: boolean;
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
    // Ctrl-C (or SIGTERM) during the upload cancels the job: it would otherwise wait for its inputs forever.
    const abort = new AbortController();
    const dispose = onInterrupt(() => abort.abort());
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
      dispose();
    }
  }

  if (!wait) {
    io.out(args.json ? JSON.stringify({ id: jobId }) : jobId);
    return;
  }
  const json = Boolean(args.json);
  const job = await followJob(client, conn, jobId, io, {
    json,
    follow: true,
    cancelOnInterrupt: cancelsOnInterrupt(args['cancel-on-interrupt']),
    lab: args,
  });
  // The job has ended: an interrupt now only stops the downloads (exit 130 all the same).
  const stop = new AbortController();
  const dispose = onInterrupt(() => stop.abort());
  try {
    await finishRun(client, conn, job, args, io, stop.signal);
  } catch (err) {
    if (stop.signal.aborted)
      throw new MvmError('ABORTED', `interrupted while collecting the results of job ${jobId} (it has ended)`, {
        hint: `fetch them with \`mvm job outputs ${jobId} --download DIR\``,
      });
    throw err;
  } finally {
    dispose();
  }
}

/** After the job: its outputs (downloaded with --outputs), its checks, the report for people and CI. */
async function finishRun(
  client: UserClient,
  conn: Connection,
  job: Job,
  args: JobRunArgs,
  io: Io,
  signal: AbortSignal,
): Promise<void> {
  const jobId = job.id;
  const json = Boolean(args.json);
  const outputs = await explained(conn, { job: jobId, doing: 'list the outputs' }, () => client.outputs(jobId, signal));
  const files = new Map<string, string>();
  if (args.outputs) {
    const got = await explained(conn, { job: jobId, doing: 'download the outputs' }, () =>
      downloadOutputs(client, jobId, args.outputs!, {
        outputs,
        signal,
        flatten: flattens(args.flatten),
        onFile: (d) => io.note(`mvm: output ${d.path} -> ${d.file} (${formatBytes(d.size)})`),
      }),
    );
    for (const d of got) files.set(d.path, d.file);
    if (got.length === 0) io.note(`mvm: job ${jobId} produced no outputs`);
    const junit = await flatJunit(args.outputs, got);
    if (junit) io.note(`mvm: JUnit report: ${junit}`);
  }
  const checks = await explained(conn, { job: jobId, doing: 'read the results' }, () =>
    jobChecks(client, job, outputs),
  );
  const result = jobResult(job, outputs, checks, files);
  for (const line of failedCheckLines(result)) io.note(line);
  if (onGithubActions()) reportToGithub(result, (line) => (json ? io.note(line) : io.out(line)));
  reportOutcome(job, io);
  // With --json the events were JSON lines; the last line is the one result object a script reads.
  if (json) io.out(JSON.stringify(result));
}

/** Whether --outputs drops the outputs' common folders (/work/output/junit.xml → DIR/junit.xml): the flag, else in CI. */
function flattens(flag: boolean | undefined): boolean {
  return flag ?? inCi();
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
 * Prints events as they arrive (human lines or JSON lines) and returns the finished job; while the
 * job is queued, says why it waits. SIGINT/SIGTERM stop following: with `cancelOnInterrupt` the job
 * is cancelled on the server, otherwise it goes on and the message says how to pick it up again.
 */
export async function followJob(
  client: UserClient,
  conn: Connection,
  jobId: string,
  io: Io,
  opts: { json: boolean; follow: boolean; cancelOnInterrupt?: boolean; lab?: LabFlags },
): Promise<Job> {
  const stop = new AbortController();
  let signal: InterruptSignal | undefined;
  const dispose = onInterrupt((s) => {
    signal = s;
    stop.abort();
  });
  // While the job is queued, say why it waits (once, and when that changes).
  const watching = new AbortController();
  const watched = opts.follow
    ? import('./queue-watch.js').then(({ watchQueue }) =>
        watchQueue({
          client,
          job: jobId,
          lab: opts.lab ?? {},
          note: (l) => io.note(l),
          signal: AbortSignal.any([stop.signal, watching.signal]),
        }),
      )
    : Promise.resolve();
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
    if (signal) throw await interrupted(client, conn, jobId, signal, Boolean(opts.cancelOnInterrupt), io);
    throw err;
  } finally {
    watching.abort();
    await watched.catch(() => undefined);
    dispose();
  }
}

/** The error an interrupted wait ends with, after cancelling the job when asked to. */
async function interrupted(
  client: UserClient,
  conn: Connection,
  jobId: string,
  signal: InterruptSignal,
  cancel: boolean,
  io: Io,
): Promise<MvmError> {
  if (!cancel) {
    return new MvmError('ABORTED', `${signal}: stopped following job ${jobId}; it goes on running on the server`, {
      hint:
        `follow it again with \`mvm job log ${jobId} --follow\`, or stop it with \`mvm job cancel ${jobId}\` ` +
        '(--cancel-on-interrupt, the default when CI=true, cancels it on an interrupt)',
    });
  }
  io.note(`mvm: ${signal}: cancelling job ${jobId} on the server`);
  try {
    await client.cancel(jobId, AbortSignal.timeout(15_000));
  } catch (err) {
    return new MvmError('ABORTED', `${signal}: cancelling job ${jobId} failed: ${describeError(explain(err, conn))}`, {
      cause: err,
      hint: `cancel it with \`mvm job cancel ${jobId}\``,
    });
  }
  return new MvmError('ABORTED', `${signal}: job ${jobId} cancelled on the server`, {
    hint: 'its testbed is freed; run the job again when ready',
  });
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

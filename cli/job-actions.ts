// `mvm job list|show|log|cancel|outputs`: look at and act on jobs already submitted.
import { connectUser, explained, type ConnectionFlags } from './connect.js';
import type { UserClient } from '../shared/buildomat/user.js';
import { formatBytes, formatOutputs, outcome } from './format.js';
import { formatJob, formatJobList, testbedOf, type Caller } from './job-format.js';
import { processIo, type Io } from './io.js';
// job-run (job files, test specs, inputs) and outputs are imported by the commands that use them:
// `mvm job show` and `mvm job list` start without them.

interface JsonFlag {
  json?: boolean;
}

export async function listJobs(
  args: ConnectionFlags & JsonFlag & { limit?: number },
  io: Io = processIo,
): Promise<void> {
  const { conn, client } = connectUser(args);
  const jobs = await explained(conn, { doing: 'list jobs' }, () =>
    client.listJobs({ max: args.limit, recentFirst: true }),
  );
  if (args.json) io.out(JSON.stringify(jobs, null, 2));
  else io.out(formatJobList(jobs, { caller: await caller(client) }));
}

/** Who the token belongs to, so that owner ids read as names; undefined when the server does not say. */
async function caller(client: UserClient): Promise<Caller | undefined> {
  return client.whoami().catch(() => undefined);
}

export async function showJob(args: ConnectionFlags & JsonFlag & { job: string }, io: Io = processIo): Promise<void> {
  const { conn, client } = connectUser(args);
  const job = await explained(conn, { job: args.job }, () => client.getJob(args.job));
  if (args.json) {
    io.out(JSON.stringify(job, null, 2));
    return;
  }
  // The agent names its testbed in the job's first events; a queued job has none yet.
  const events = job.state === 'queued' ? [] : await client.events(job.id, 0).catch(() => []);
  io.out(formatJob(job, { caller: await caller(client), testbed: testbedOf(events) }));
}

export async function jobLog(
  args: ConnectionFlags & JsonFlag & { job: string; follow?: boolean; 'cancel-on-interrupt'?: boolean },
  io: Io = processIo,
): Promise<void> {
  const { conn, client } = connectUser(args);
  const { followJob, reportOutcome } = await import('./job-run.js');
  const { cancelsOnInterrupt } = await import('./interrupt.js');
  const job = await followJob(client, conn, args.job, io, {
    json: Boolean(args.json),
    follow: Boolean(args.follow),
    cancelOnInterrupt: cancelsOnInterrupt(args['cancel-on-interrupt']),
  });
  // Following to the end reports the outcome and exits like `job run --wait`; a snapshot just says where it is.
  if (args.follow) reportOutcome(job, io);
  else io.note(`mvm: job ${job.id} is ${outcome(job)}`);
}

export async function cancelJob(args: ConnectionFlags & JsonFlag & { job: string }, io: Io = processIo): Promise<void> {
  const { conn, client } = connectUser(args);
  await explained(conn, { job: args.job, doing: 'cancel the job' }, () => client.cancel(args.job));
  io.note(`mvm: cancellation of job ${args.job} requested`);
  if (args.json) io.out(JSON.stringify({ id: args.job, cancel_requested: true }));
}

export async function jobOutputs(
  args: ConnectionFlags & JsonFlag & { job: string; download?: string; flatten?: boolean; file?: string; to?: string },
  io: Io = processIo,
): Promise<void> {
  const { conn, client } = connectUser(args);
  const outputs = await explained(conn, { job: args.job, doing: 'list the outputs' }, () => client.outputs(args.job));
  if (args.file !== undefined) {
    const { copyOutput } = await import('./outputs.js');
    const copied = await explained(conn, { job: args.job, doing: `copy the output ${args.file}` }, () =>
      copyOutput(client, args.job, outputs, args.file!, args.to),
    );
    if (args.to) {
      io.note(`mvm: output ${copied.path} -> ${args.to} (${formatBytes(copied.size)})`);
      if (args.json) io.out(JSON.stringify({ id: copied.id, path: copied.path, file: args.to, size: copied.size }));
    }
    return;
  }
  if (args.download) {
    const { downloadOutputs } = await import('./outputs.js');
    const files = await explained(conn, { job: args.job, doing: 'download the outputs' }, () =>
      downloadOutputs(client, args.job, args.download!, {
        outputs,
        flatten: args.flatten,
        onFile: (d) => io.note(`mvm: output ${d.path} -> ${d.file} (${formatBytes(d.size)})`),
      }),
    );
    if (args.json) io.out(JSON.stringify(files, null, 2));
    else io.note(`mvm: downloaded ${files.length} output${files.length === 1 ? '' : 's'} into ${args.download}`);
    return;
  }
  io.out(args.json ? JSON.stringify(outputs, null, 2) : formatOutputs(outputs));
}

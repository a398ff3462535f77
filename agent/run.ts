// The agent's life: bootstrap → idle (ping about every second) → one job (ping every few seconds
// alongside) → exit. A started-job mark found at start-up means a previous agent died mid-job:
// the agent stops what that one left running, reports worker failure and waits for poweroff.
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import type { WorkerPingJob } from '../shared/api/types.js';
import { WorkerClient } from '../shared/buildomat/worker.js';
import { nodeTransport } from '../shared/http-node.js';
import { ApiError, describeError, isAbortError, MvmError } from '../shared/errors.js';
import { newToken } from '../shared/ids.js';
import { groupAlive, stopProcessGroup } from '../shared/process-tree.js';
import { stopEscaped } from '../shared/escaped-processes.js';
import { sleepUnlessAborted } from '../shared/sleep.js';
import { runJob, type JobResult, type JobRunOptions } from './job-runner.js';
import { clearRunningTask, markJobStarted, readRunningTask, readStartedJob } from './marker.js';
import { persist } from '../shared/retry.js';
import { announceOnline } from '../shared/agent-online.js';
import { loadState, prepareWorkdir, saveState } from './workdir.js';

export type AgentPhase = 'starting' | 'bootstrapping' | 'idle' | 'running' | 'reporting-restart' | 'parked' | 'done';

export interface AgentOptions {
  url: string;
  workdir: string;
  /** The bootstrap string; may be omitted when the workdir holds the state of an earlier start. */
  bootstrap?: string;
  testbed?: string;
  log: Logger;
  /** First SIGTERM: stop the job, clean up, exit. */
  signal: AbortSignal;
  /** Second SIGTERM: stop now. */
  force?: AbortSignal;
  graceMs?: number;
  idlePingMs?: number;
  busyPingMs?: number;
  cleanupMs?: number;
  spoolMemoryBytes?: number;
  pathPrefix?: string[];
  /** The user tasks run as, or why they cannot (job-runner.ts). */
  taskUser?: JobRunOptions['taskUser'];
  /** How tasks are contained (task-sandbox.ts); may still be probed while the agent bootstraps. */
  sandbox?: JobRunOptions['sandbox'] | Promise<JobRunOptions['sandbox']>;
  /** Called when the phase changes (tests, logs). */
  onPhase?: (phase: AgentPhase) => void;
}

export interface AgentResult {
  worker?: string;
  job?: JobResult & { id: string };
  /** The agent found a started job and reported worker failure. */
  restartReported?: boolean;
  poweroff: boolean;
}

export async function runAgent(o: AgentOptions): Promise<AgentResult> {
  let phase: AgentPhase = 'starting';
  const enter = (p: AgentPhase) => {
    phase = p;
    o.log.debug({ phase }, 'agent phase');
    o.onPhase?.(p);
  };
  enter('starting');
  prepareWorkdir(o.workdir);
  const state = loadState(o.workdir);
  const bootstrap = o.bootstrap ?? state?.bootstrap;
  if (!bootstrap) {
    throw new MvmError('USAGE', 'no bootstrap string: give --bootstrap, --bootstrap-file or MVM_BOOTSTRAP', {
      hint: 'the factory passes the bootstrap string of the worker it created for this agent',
    });
  }
  // Same workdir, same worker: keep the token so that bootstrapping again is accepted.
  const token = state && state.bootstrap === bootstrap ? state.token : newToken(64);
  saveState(o.workdir, { url: o.url, bootstrap, token, worker: state?.worker });

  // node:http rather than undici: nothing to load beyond Node itself, which is most of what an
  // agent's start costs; an agent makes a few JSON calls and streams of event batches.
  const client = new WorkerClient({ baseUrl: o.url, transport: nodeTransport });
  enter('bootstrapping');
  const { id: worker } = await persist(() => client.bootstrap(bootstrap, token, o.signal), {
    signal: o.signal,
    log: o.log,
    what: 'bootstrap',
    maxMs: 5000,
    // Until the factory has associated the worker, bootstrap is refused: keep trying.
    retryAlso: (err) => !isAbortError(err),
  });
  saveState(o.workdir, { url: o.url, bootstrap, token, worker });
  const log = o.log.child({ worker });
  log.info('bootstrapped');
  announceOnline();
  process.stdout.write(`mvm agent bootstrapped as worker ${worker}\n`);

  const started = readStartedJob(o.workdir);
  if (started) {
    enter('reporting-restart');
    await reportRestart(client, o, log, started.job);
    enter('parked');
    const poweroff = await waitForPoweroff(client, o, log);
    enter('done');
    return { worker, restartReported: true, poweroff };
  }

  enter('idle');
  const job = await waitForJob(client, o, log);
  if (!job) {
    enter('done');
    return { worker, poweroff: !o.signal.aborted };
  }

  enter('running');
  // Memory (doc/agent.md): a task can print hundreds of thousands of lines a second, and at that
  // allocation rate V8 grows its young generation to tens of MB that nothing needs — keep it at
  // its initial size (a scavenge of a small space is cheap). Set only now: a built-in module loaded
  // after a flag change cannot use Node's code cache, and by now the agent has loaded what it needs.
  setFlagsFromString('--semi-space-growth-factor=1');
  try {
    markJobStarted(o.workdir, {
      job: job.id,
      name: job.name,
      worker,
      startedAt: new Date().toISOString(),
      pid: process.pid,
    });
  } catch (err) {
    // Without the mark a restart could run the job twice, so it is not run at all; the server is
    // told why (the job fails with the reason) rather than left to notice a silent worker.
    enter('reporting-restart');
    const reason = `cannot start job ${job.id}: ${describeError(err)}`;
    log.error({ job: job.id, err: describeError(err) }, 'cannot mark the job started: reporting worker failure');
    await reportFailure(client, o, log, reason);
    enter('parked');
    const poweroff = await waitForPoweroff(client, o, log);
    enter('done');
    return { worker, poweroff };
  }
  const jobLog = log.child({ job: job.id });
  jobLog.info({ name: job.name, tasks: job.tasks.length, inputs: job.inputs.length }, 'job assigned');
  const jobStop = new AbortController();
  const onSignal = () => jobStop.abort(new Error('the agent received SIGTERM'));
  o.signal.addEventListener('abort', onSignal, { once: true });
  const pinger = new AbortController();
  const pinging = busyPing(client, o, jobLog, pinger.signal, () =>
    jobStop.abort(new Error('the server asked for poweroff (or the worker is gone)')),
  );
  try {
    const result = await runJob({
      client,
      job,
      agentDir: o.workdir,
      testbed: o.testbed,
      log: jobLog,
      signal: jobStop.signal,
      force: o.force,
      graceMs: o.graceMs ?? 10_000,
      cleanupMs: o.cleanupMs,
      spoolMemoryBytes: o.spoolMemoryBytes,
      pathPrefix: o.pathPrefix,
      taskUser: o.taskUser,
      sandbox: await o.sandbox,
    });
    enter('done');
    return { worker, job: { id: job.id, ...result }, poweroff: false };
  } finally {
    pinger.abort();
    await pinging;
    o.signal.removeEventListener('abort', onSignal);
  }
}

/** A ping refused for our token: the worker was deleted, which means the same as poweroff. */
function workerGone(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 401 || err.status === 403);
}

async function waitForJob(client: WorkerClient, o: AgentOptions, log: Logger): Promise<WorkerPingJob | undefined> {
  const every = o.idlePingMs ?? 1000;
  while (!o.signal.aborted) {
    // Held by mvm server until a job is assigned (so it starts the moment it is); a server that
    // answers at once (buildomat) is asked again after `every`, as before.
    const asked = Date.now();
    try {
      const p = await client.ping(o.signal, every);
      if (p.poweroff) {
        log.info('the server asked for poweroff before a job was assigned');
        return undefined;
      }
      if (p.job) return p.job;
    } catch (err) {
      if (o.signal.aborted) break;
      if (workerGone(err)) {
        log.warn({ err: describeError(err) }, 'the worker no longer exists; exiting');
        return undefined;
      }
      log.warn({ err: describeError(err) }, 'ping failed');
    }
    const held = Date.now() - asked;
    if (held < every && !(await sleepUnlessAborted(every - held, o.signal))) break;
  }
  return undefined;
}

/** Pings while the job runs (the server fails silent workers); `onPoweroff` when it says so. */
async function busyPing(
  client: WorkerClient,
  o: AgentOptions,
  log: Logger,
  signal: AbortSignal,
  onPoweroff: () => void,
): Promise<void> {
  const every = o.busyPingMs ?? 5000;
  while (await sleepUnlessAborted(every, signal)) {
    try {
      const p = await client.ping(signal);
      if (p.poweroff) {
        log.warn('the server asked for poweroff during the job');
        onPoweroff();
      }
    } catch (err) {
      if (signal.aborted) return;
      if (workerGone(err)) {
        log.warn({ err: describeError(err) }, 'the worker no longer exists');
        onPoweroff();
      } else {
        log.debug({ err: describeError(err) }, 'ping failed');
      }
    }
  }
}

async function reportRestart(client: WorkerClient, o: AgentOptions, log: Logger, job: string): Promise<void> {
  log.error(
    { job },
    'found the mark of a job started by an earlier agent: reporting worker failure instead of running it again',
  );
  const orphan = readRunningTask(o.workdir);
  if (orphan) {
    const r = await stopProcessGroup(orphan.pgid, o.graceMs ?? 10_000);
    const escaped = orphan.mark ? await stopEscaped(orphan.mark, o.graceMs ?? 10_000) : [];
    log.warn({ ...orphan, ...r, escaped }, 'stopped the task process group the earlier agent left');
    // A group that survived is still the factory's to see (it keeps the testbed until it is gone).
    if (!groupAlive(orphan.pgid)) clearRunningTask(o.workdir);
  }
  await reportFailure(client, o, log, `agent restarted during job ${job}; the job is not run again`);
}

async function reportFailure(client: WorkerClient, o: AgentOptions, log: Logger, reason: string): Promise<void> {
  try {
    await persist(() => client.fail(reason, o.signal), { signal: o.signal, log, what: 'worker fail' });
  } catch (err) {
    if (!o.signal.aborted) log.error({ err: describeError(err) }, 'could not report the worker failure');
  }
}

async function waitForPoweroff(client: WorkerClient, o: AgentOptions, log: Logger): Promise<boolean> {
  while (!o.signal.aborted) {
    try {
      if ((await client.ping(o.signal)).poweroff) return true;
    } catch (err) {
      if (o.signal.aborted) break;
      if (workerGone(err)) return true;
      log.debug({ err: describeError(err) }, 'ping failed');
    }
    if (!(await sleepUnlessAborted(o.idlePingMs ?? 1000, o.signal))) break;
  }
  return false;
}

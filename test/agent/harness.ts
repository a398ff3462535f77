// Integration harness for agent tests: a real `mvm server`, a factory acted out with plain HTTP
// (lease → create worker → associate), and real `mvm agent run` children.
import { join } from 'node:path';
import type { FactoryLeaseResult, FactoryWorker, Job, JobEvent, JobOutput } from '../../shared/api/types.js';
import type { HttpClient } from '../../shared/http.js';
import { ulid } from 'ulid';
import { AGENT_BUNDLE } from '../../shared/paths.js';
import { startMvm, waitFor, type MvmProcess } from '../helpers/mvm-process.js';
import { startServer, type SubmitOptions, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

type T = { teardown(fn: () => void | Promise<void>): void };

export interface Lab {
  srv: TestServer;
  target: string;
  user: HttpClient;
  factory: HttpClient;
  userToken: string;
  dir: string;
  /** Submits a job; inputs given as name → bytes are uploaded and attached. */
  submit(job: Omit<SubmitOptions, 'target' | 'inputs'> & { inputs?: Record<string, Buffer> }): Promise<string>;
  /** Leases `job`, creates and associates a worker for it: the agent's bootstrap string. */
  worker(job: string): Promise<FactoryWorker>;
  /** A real agent: `mvm agent run`, or with `bundle` the bundled agent the factory starts. */
  startAgent(bootstrap: string, workdir: string, args?: string[], url?: string, bundle?: boolean): MvmProcess;
  events(job: string): Promise<JobEvent[]>;
  job(job: string): Promise<Job>;
  waitDone(job: string, timeoutMs?: number): Promise<Job>;
  outputs(job: string): Promise<Array<JobOutput & { body: Buffer }>>;
}

export async function startLab(t: T, serverArgs: string[] = ['--tick', '200ms']): Promise<Lab> {
  const srv = await startServer(t, { args: serverArgs });
  const target = await srv.createTarget('bitaxe');
  const userToken = await srv.createUser('alice');
  const user = srv.client(userToken);
  const factory = srv.client(await srv.createFactory('lab'));
  const dir = tempDir(t, 'mvm-agent-');
  const agents: MvmProcess[] = [];
  t.teardown(async () => {
    await Promise.all(agents.map((a) => a.stop(5000)));
  });

  const lab: Lab = {
    srv,
    target,
    user,
    factory,
    userToken,
    dir,
    async submit(job) {
      const names = Object.keys(job.inputs ?? {});
      const id = await srv.submitJob(userToken, { ...job, target: 'bitaxe', inputs: names });
      for (const [name, body] of Object.entries(job.inputs ?? {})) {
        const chunk = await user.json<{ id: string }>('POST', `/0/jobs/${id}/chunk`, {
          body,
          contentType: 'application/octet-stream',
        });
        await user.post(`/1/jobs/${id}/input`, { name, size: body.length, chunks: [chunk.id], commit_id: ulid() });
      }
      return id;
    },
    async worker(job) {
      const lease = await factory.post<FactoryLeaseResult>('/0/factory/lease', { supported_targets: [target] });
      if (lease.lease?.job !== job) throw new Error(`expected a lease on ${job}, got ${JSON.stringify(lease)}`);
      const w = await factory.post<FactoryWorker>('/0/factory/worker', { target, job });
      await factory.patch(`/0/factory/worker/${w.id}`, { private: `instance-${w.id}` });
      return w;
    },
    startAgent(bootstrap, workdir, args = [], url, bundle = false) {
      const a = startMvm(
        [
          ...(bundle ? [] : ['agent']),
          'run',
          '--url',
          url ?? srv.url,
          '--workdir',
          workdir,
          '--grace',
          '1s',
          '--busy-ping',
          '500ms',
          ...args,
        ],
        {
          env: { MVM_BOOTSTRAP: bootstrap, MVM_LOG_LEVEL: process.env.MVM_LOG_LEVEL ?? 'info' },
          detached: true,
          script: bundle ? AGENT_BUNDLE : undefined,
        },
      );
      agents.push(a);
      return a;
    },
    async events(job) {
      const all: JobEvent[] = [];
      for (;;) {
        const page = await user.get<JobEvent[]>(`/0/jobs/${job}/events`, {
          query: { minseq: all.length === 0 ? 0 : all.at(-1)!.seq + 1 },
        });
        if (page.length === 0) return all;
        all.push(...page);
      }
    },
    job: (job) => user.get<Job>(`/0/job/${job}`),
    async waitDone(job, timeoutMs = 60_000) {
      return waitFor<Job | undefined>(
        async () => {
          const j = await lab.job(job);
          return j.state === 'completed' || j.state === 'failed' ? j : undefined;
        },
        `job ${job} to end`,
        timeoutMs,
        100,
      ) as Promise<Job>;
    },
    async outputs(job) {
      const list = await user.get<JobOutput[]>(`/0/jobs/${job}/outputs`);
      const out: Array<JobOutput & { body: Buffer }> = [];
      for (const o of list) {
        const res = await user.raw('GET', `/0/jobs/${job}/outputs/${o.id}`);
        const chunks: Buffer[] = [];
        for await (const c of res.body) chunks.push(c as Buffer);
        out.push({ ...o, body: Buffer.concat(chunks) });
      }
      return out;
    },
  };
  return lab;
}

/** The agent's own events (everything but the server's `control` stream), as `stream[task]: payload`. */
export function agentLog(events: JobEvent[]): string[] {
  return events
    .filter((e) => e.stream !== 'control')
    .map((e) => `${e.stream}${e.task === null || e.task === undefined ? '' : `[${e.task}]`}: ${e.payload}`);
}

/** The log with durations blanked out, for exact comparison. */
export function normalise(lines: string[]): string[] {
  return lines.map((l) => l.replace(/duration \d+ ms/, 'duration N ms'));
}

export function workdirOf(lab: Lab, name: string): string {
  return join(lab.dir, name);
}

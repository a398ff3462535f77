// Job servers for tests, and small helpers to set up targets, factories, users and jobs on one.
// `startServer` runs a real `mvm server` child process (a temp data folder, a random loopback
// port, a known admin token): for tests of the process itself and of components spawned beside
// it. Run `npx tsc -p .` first: the child runs the compiled dist/. Tests of the server's API start
// it in-process instead (server-inprocess.ts), with the same helpers.
import { HttpClient, seg } from '../../shared/http.js';
import { newToken } from '../../shared/ids.js';
import type {
  FactoryLeaseResult,
  FactoryWorker,
  JobSubmit,
  TaskSubmit,
  WorkerPingResult,
} from '../../shared/api/types.js';
import { startMvm, type MvmProcess } from './mvm-process.js';
import { tempDir } from './tmp.js';

export interface ServerOptions {
  /** Reuse a data folder (default: a new temp folder removed at teardown). */
  dataDir?: string;
  /** Extra `mvm server` flags, e.g. ['--tick', '100ms', '--ping-timeout', '2s']. */
  args?: string[];
  env?: Record<string, string | undefined>;
  adminToken?: string;
}

export interface SubmitOptions {
  name?: string;
  target: string;
  /** One task running this script (ignored when `tasks` is given). */
  script?: string;
  tasks?: TaskSubmit[];
  output_rules?: string[];
  inputs?: string[];
  tags?: Record<string, string>;
}

/** A running job server, spawned or in-process, and what tests do with it. */
export interface ServerApi {
  url: string;
  adminToken: string;
  dataDir: string;
  /** The server's log lines (JSON, debug level unless MVM_LOG_LEVEL says otherwise). */
  readonly logs: string[];
  /** An HTTP client with the admin token. */
  admin: HttpClient;
  /** A client for `token` (a user, factory or worker token) against this server (or `url`). */
  client(token?: string, url?: string): HttpClient;
  createTarget(name: string, desc?: string): Promise<string>;
  /** Creates a factory and returns its token. */
  createFactory(name: string): Promise<string>;
  /** Creates a user and returns its token. */
  createUser(name: string): Promise<string>;
  /** Submits a job as the user with `userToken`; returns its id. */
  submitJob(userToken: string, job: SubmitOptions): Promise<string>;
}

/** A `mvm server` child process. */
export interface TestServer extends ServerApi {
  proc: MvmProcess;
  /** Stops the server (SIGTERM, or SIGKILL with `kill9`) and starts it again on the same port and data. */
  restart(opts?: { kill9?: boolean }): Promise<void>;
  stop(): Promise<number | string>;
}

/** The helpers of ServerApi for a server at `url` with `adminToken`. */
export function serverApi(
  url: string,
  adminToken: string,
): Pick<ServerApi, 'admin' | 'client' | 'createTarget' | 'createFactory' | 'createUser' | 'submitJob'> {
  const admin = new HttpClient({ baseUrl: url, token: adminToken });
  const client = (token?: string, base?: string) => new HttpClient({ baseUrl: base ?? url, token, timeoutMs: 120_000 });
  return {
    admin,
    client,
    async createTarget(name, desc = `${name} testbeds`) {
      return (await admin.post<{ id: string }>('/0/admin/target', { name, desc })).id;
    },
    async createFactory(name) {
      return (await admin.post<{ token: string }>('/0/admin/factory', { name })).token;
    },
    async createUser(name) {
      return (await admin.post<{ token: string }>('/0/users', { name })).token;
    },
    async submitJob(userToken, job) {
      const body: JobSubmit = {
        name: job.name ?? 'test job',
        target: job.target,
        output_rules: job.output_rules ?? [],
        tasks: job.tasks ?? [{ name: 'main', script: job.script ?? 'echo hello', env_clear: false, env: {} }],
        inputs: job.inputs ?? [],
        tags: job.tags ?? {},
      };
      return (await client(userToken).post<{ id: string }>('/0/jobs', body)).id;
    },
  };
}

const READY_RE = /^mvm server listening on (http:\/\/\S+)$/;

export async function startServer(
  t: { teardown(fn: () => void | Promise<void>): void },
  opts: ServerOptions = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? tempDir(t, 'mvm-server-');
  const adminToken = opts.adminToken ?? newToken();
  let port = 0;

  const spawn = async (): Promise<{ proc: MvmProcess; url: string }> => {
    const proc = startMvm(['server', '--data', dataDir, '--listen', `127.0.0.1:${port}`, ...(opts.args ?? [])], {
      env: { MVM_ADMIN_TOKEN: adminToken, ...opts.env },
    });
    const line = await proc.waitForLine(READY_RE, 30_000);
    const url = READY_RE.exec(line)![1];
    port = Number(new URL(url).port);
    return { proc, url };
  };

  let { proc, url } = await spawn();
  const server: TestServer = {
    url,
    adminToken,
    dataDir,
    proc,
    get logs() {
      return server.proc.stderr;
    },
    ...serverApi(url, adminToken),
    async restart(o = {}) {
      if (o.kill9) await proc.kill9();
      else await proc.stop();
      ({ proc, url } = await spawn());
      server.proc = proc;
    },
    stop: () => proc.stop(),
  };
  t.teardown(async () => {
    await server.proc.stop(5000);
  });
  return server;
}

export { seg };

// A scripted factory + worker: plain HTTP calls, no agent or factory daemon.

export interface ScriptedWorker {
  id: string;
  token: string;
  /** Client with the worker's token. */
  api: HttpClient;
  ping(waitMs?: number): Promise<WorkerPingResult>;
  append(job: string, stream: string, payload: string, task?: number): Promise<void>;
}

/**
 * Creates, associates and bootstraps a worker for `target` (an id) through `factory`; the worker
 * then talks to `base` (default: the server; pass a conformance proxy's URL to check it).
 */
export async function startScriptedWorker(
  srv: { url: string },
  factory: HttpClient,
  target: string,
  base: string = srv.url,
  opts: { job?: string; private?: string } = {},
): Promise<ScriptedWorker> {
  const w = await factory.post<FactoryWorker>('/0/factory/worker', { target, job: opts.job ?? null });
  await factory.patch(`/0/factory/worker/${w.id}`, { private: opts.private ?? `instance-${w.id}` });
  const token = newToken();
  await new HttpClient({ baseUrl: base }).post('/0/worker/bootstrap', { bootstrap: w.bootstrap, token });
  const api = new HttpClient({ baseUrl: base, token, timeoutMs: 120_000 });
  return {
    id: w.id,
    token,
    api,
    ping: (waitMs) => api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: waitMs } }),
    append: (job, stream, payload, task) =>
      api.post(`/1/worker/job/${job}/append`, [
        { stream, payload, time: new Date().toISOString(), task: task ?? null },
      ]),
  };
}

/** One lease call (`waitMs`: the mvm long-poll); the lease, or null. */
export async function leaseJob(
  factory: HttpClient,
  targets: string[],
  waitMs?: number,
): Promise<FactoryLeaseResult['lease']> {
  return (
    (
      await factory.post<FactoryLeaseResult>(
        '/0/factory/lease',
        { supported_targets: targets },
        { query: { wait_ms: waitMs } },
      )
    ).lease ?? null
  );
}

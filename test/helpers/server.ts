// A real `mvm server` child process for integration tests: a temp data folder, a random loopback
// port, a known admin token, and small helpers to set up targets, factories, users and jobs.
// Run `npx tsc -p .` first: the child runs the compiled dist/.
import { HttpClient, seg } from '../../shared/http.js';
import { newToken } from '../../shared/ids.js';
import type { JobSubmit, TaskSubmit } from '../../shared/api/types.js';
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

export interface TestServer {
  url: string;
  adminToken: string;
  dataDir: string;
  proc: MvmProcess;
  /** An HTTP client with the admin token. */
  admin: HttpClient;
  /** A client for `token` (a user, factory or worker token) against this server (or `url`). */
  client(token?: string, url?: string): HttpClient;
  /** Stops the server (SIGTERM, or SIGKILL with `kill9`) and starts it again on the same port and data. */
  restart(opts?: { kill9?: boolean }): Promise<void>;
  stop(): Promise<number | string>;
  createTarget(name: string, desc?: string): Promise<string>;
  /** Creates a factory and returns its token. */
  createFactory(name: string): Promise<string>;
  /** Creates a user and returns its token. */
  createUser(name: string): Promise<string>;
  /** Submits a job as the user with `userToken`; returns its id. */
  submitJob(userToken: string, job: SubmitOptions): Promise<string>;
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
    admin: new HttpClient({ baseUrl: url, token: adminToken }),
    client: (token, base) => new HttpClient({ baseUrl: base ?? url, token, timeoutMs: 120_000 }),
    async restart(o = {}) {
      if (o.kill9) await proc.kill9();
      else await proc.stop();
      ({ proc, url } = await spawn());
      server.proc = proc;
    },
    stop: () => proc.stop(),
    async createTarget(name, desc = `${name} testbeds`) {
      return (await server.admin.post<{ id: string }>('/0/admin/target', { name, desc })).id;
    },
    async createFactory(name) {
      return (await server.admin.post<{ token: string }>('/0/admin/factory', { name })).token;
    },
    async createUser(name) {
      return (await server.admin.post<{ token: string }>('/0/users', { name })).token;
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
      return (await server.client(userToken).post<{ id: string }>('/0/jobs', body)).id;
    },
  };
  t.teardown(async () => {
    await server.proc.stop(5000);
  });
  return server;
}

export { seg };

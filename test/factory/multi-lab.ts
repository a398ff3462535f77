// Several lab hosts against one job server, as real processes: one `mvm server`, and per host a
// factory token, a folder with its own config and database, and `mvm factory` started on demand
// (the scripted agent, so a job costs one short process). Some targets are served by several
// hosts, some by one; the targets are created once on the server.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../shared/api/types.js';
import type { HttpClient } from '../../shared/http.js';
import { waitFor, type MvmProcess } from '../helpers/mvm-process.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { allRows, runFactory, writeFactoryConfig, type LabTestbed } from './fixture.js';

export interface Host {
  name: string;
  dir: string;
  configFile: string;
  dbFile: string;
  token: string;
  /** The factory's id on the job server. */
  id: string;
  /** Starts `mvm factory` for this host; waits for its first pass unless `wait: false`. */
  start(opts?: { wait?: boolean }): Promise<MvmProcess>;
}

export interface MultiLab {
  srv: TestServer;
  dir: string;
  user: HttpClient;
  hosts: Map<string, Host>;
  submit(target: string, script: string, name?: string): Promise<string>;
  job(id: string): Promise<Job>;
  /** Instance rows of every host's database (hosts whose database does not exist yet have none). */
  instances(): Array<
    ReturnType<typeof allRows>[number] & { host: string; job: string; created_at: number; destroyed_at: number | null }
  >;
  /** The job server's workers, straight from its database: which factory made each, for which job. */
  serverWorkers(): Array<{ id: string; factory: string; job: string | null; deleted: number }>;
  /** The jobs the server granted a lease on, in order, with the factory that got it (from its log). */
  leaseGrants(): Array<{ job: string; factory: string }>;
}

export interface MultiLabOptions {
  /** host name → its testbeds */
  hosts: Record<string, LabTestbed[]>;
  serverArgs?: string[];
  /** Extra environment of every factory (e.g. a leak marker). */
  factoryEnv?: Record<string, string>;
}

export async function startMultiLab(
  t: { teardown(fn: () => void | Promise<void>): void },
  opts: MultiLabOptions,
): Promise<MultiLab> {
  const srv = await startServer(t, {
    args: ['--tick', '200ms', ...(opts.serverArgs ?? [])],
    env: { MVM_LOG_LEVEL: 'info' },
  });
  const dir = tempDir(t, 'mvm-multi-');
  const targets = [...new Set(Object.values(opts.hosts).flatMap((tbs) => tbs.flatMap((tb) => tb.targets)))];
  for (const n of targets) await srv.createTarget(n);
  const factories = new Map<string, string>();
  const hosts = new Map<string, Host>();
  for (const [name, testbeds] of Object.entries(opts.hosts)) {
    const token = await srv.createFactory(`host-${name}`);
    const hostDir = join(dir, name);
    mkdirSync(hostDir);
    const configFile = join(hostDir, 'factory.toml');
    writeFactoryConfig(configFile, srv, token, { testbeds, factoryKeys: 'quarantine_unhealthy = false' });
    const dbFile = join(hostDir, 'factory.sqlite3');
    hosts.set(name, {
      name,
      dir: hostDir,
      configFile,
      dbFile,
      token,
      id: '',
      async start(o = {}) {
        return runFactory(configFile, dbFile, {
          env: { MVM_LOG_LEVEL: 'info', ...opts.factoryEnv },
          wait: o.wait,
          timeoutMs: 60_000,
          t,
        });
      },
    });
  }
  for (const f of await srv.admin.get<Array<{ id: string; name: string }>>('/0/admin/factories'))
    factories.set(f.name, f.id);
  for (const h of hosts.values()) h.id = factories.get(`host-${h.name}`)!;
  const user = srv.client(await srv.createUser('tester'));
  const serverDb = join(srv.dataDir, 'server.sqlite');
  return {
    srv,
    dir,
    user,
    hosts,
    submit: async (target, script, name) =>
      (
        await user.post<{ id: string }>('/0/jobs', {
          name: name ?? 'multi job',
          target,
          output_rules: [],
          tasks: [{ name: 'main', script, env_clear: false, env: opts.factoryEnv ?? {} }],
          inputs: [],
          tags: {},
        })
      ).id,
    job: (id) => user.get<Job>(`/0/job/${id}`),
    instances: () =>
      [...hosts.values()].flatMap((h) => {
        try {
          return allRows(h.dbFile).map((r) => ({
            ...(r as ReturnType<typeof allRows>[number] & {
              job: string;
              created_at: number;
              destroyed_at: number | null;
            }),
            host: h.name,
          }));
        } catch {
          return [];
        }
      }),
    serverWorkers: () => {
      const db = new Database(serverDb, { readonly: true, fileMustExist: true });
      try {
        return db.prepare('select id, factory, job, deleted from workers order by id').all() as never;
      } finally {
        db.close();
      }
    },
    leaseGrants: () =>
      [...srv.proc.stdout, ...srv.proc.stderr]
        .flatMap((l) => {
          if (!l.includes('lease granted')) return [];
          try {
            const j = JSON.parse(l) as { job?: string; factory?: string; time?: number };
            return j.job && j.factory ? [{ job: j.job, factory: j.factory, time: j.time ?? 0 }] : [];
          } catch {
            return [];
          }
        })
        .sort((a, b) => a.time - b.time)
        .map(({ job, factory }) => ({ job, factory })),
  };
}

/** Waits until every job in `ids` has ended (completed or failed); returns them. */
export async function waitEnded(lab: MultiLab, ids: string[], timeoutMs: number): Promise<Job[]> {
  return (await waitFor(
    async () => {
      const jobs = await Promise.all(ids.map((id) => lab.job(id)));
      return jobs.every((j) => j.state === 'completed' || j.state === 'failed') ? jobs : undefined;
    },
    `${ids.length} jobs to end`,
    timeoutMs,
    250,
  ))!;
}

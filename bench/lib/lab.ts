// A lab for benches, as real processes on loopback: `mvm server`, a target, a factory token, a
// user, and `mvm factory` with N testbeds that have no devices (a bench measures mvm, not miners)
// and the default agent_command, so every job runs in a real `mvm agent`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobSubmit } from '../../shared/api/types.js';
import { UserClient } from '../../shared/buildomat/user.js';
import { ConfigError } from '../../shared/errors.js';
import { HttpClient } from '../../shared/http.js';
import { newToken } from '../../shared/ids.js';
import { defaultAgentCommand, parseConfig } from '../../factory/config/load.js';
import { readStatus } from '../../factory/status.js';
import type { BenchContext } from './bench.js';
import { startMvm, type Proc } from './proc.js';
import { waitFor } from './wait.js';

export const TARGET = 'bench';
const SERVER_READY = /^mvm server listening on (http:\/\/\S+)$/;
export const FACTORY_READY = /^mvm factory started$/;

export interface BenchServer {
  proc: Proc;
  url: string;
  adminToken: string;
  admin: HttpClient;
}

/** `mvm server` on a free loopback port with a fresh data folder; resolves once it listens. */
export async function startBenchServer(ctx: BenchContext, name = 'server', args: string[] = []): Promise<BenchServer> {
  const adminToken = newToken();
  const proc = startMvm(name, ['server', '--data', ctx.subdir(name), '--listen', '127.0.0.1:0', ...args], {
    env: { MVM_ADMIN_TOKEN: adminToken },
    logFile: ctx.log(name),
  });
  const url = SERVER_READY.exec((await proc.waitForLine(SERVER_READY, 60_000)).line)![1];
  return { proc, url, adminToken, admin: new HttpClient({ baseUrl: url, token: adminToken }) };
}

export interface BenchLab {
  server: BenchServer;
  user: UserClient;
  configFile: string;
  dbFile: string;
  testbeds: number;
  /** Submits a one-task job for the bench target; returns its id. */
  submit(script: string, name?: string): Promise<string>;
}

export interface LabOptions {
  testbeds: number;
  /** Folder for the config, database and agents' work (default: a sub-folder "factory"). */
  name?: string;
}

/** Sets up the server's side of a lab and writes the factory's config; does not start the factory. */
export async function prepareLab(ctx: BenchContext, server: BenchServer, opts: LabOptions): Promise<BenchLab> {
  const dir = ctx.subdir(opts.name ?? 'factory');
  const targets = await server.admin.get<Array<{ name: string }>>('/0/admin/targets');
  if (!targets.some((t) => t.name === TARGET))
    await server.admin.post('/0/admin/target', { name: TARGET, desc: 'bench testbeds' });
  const tag = newToken(6).toLowerCase();
  const factoryToken = (await server.admin.post<{ token: string }>('/0/admin/factory', { name: `bench-${tag}` })).token;
  const userToken = (await server.admin.post<{ token: string }>('/0/users', { name: `bench-${tag}` })).token;
  const user = new UserClient(new HttpClient({ baseUrl: server.url, token: userToken, timeoutMs: 120_000 }));
  const configFile = join(dir, 'factory.toml');
  writeFileSync(
    configFile,
    factoryConfig(
      { baseUrl: server.url, adminToken: server.adminToken, factoryToken, testbeds: opts.testbeds },
      configFile,
    ),
  );
  return {
    server,
    user,
    configFile,
    dbFile: join(dir, 'factory.sqlite3'),
    testbeds: opts.testbeds,
    submit: (script, name = 'bench job') => user.submitJob(jobSpec(script, name)),
  };
}

export function jobSpec(script: string, name: string): JobSubmit {
  return {
    name,
    target: TARGET,
    output_rules: [],
    tasks: [{ name: 'main', script, env_clear: false, env: {} }],
    inputs: [],
    tags: {},
  };
}

interface ConfigValues {
  baseUrl: string;
  adminToken: string;
  factoryToken: string;
  testbeds: number;
}

/** A factory config: the defaults, except a short drain so a bench's clean-up does not wait minutes. */
export function factoryConfig(v: ConfigValues, file: string): string {
  const lines = [
    '[general]',
    `baseurl = "${v.baseUrl}"`,
    `admin_token = "${v.adminToken}"`,
    '',
    '[factory]',
    `token = "${v.factoryToken}"`,
    'drain_timeout = "20s"',
    'stop_grace = "2s"',
    ...profiledAgent(),
    '',
    ...optionalSections(v, file),
    `[target.${TARGET}]`,
    '',
  ];
  for (let i = 1; i <= v.testbeds; i++) lines.push(`[testbed.tb${i}]`, `targets = ["${TARGET}"]`, '');
  return lines.join('\n');
}

/** With MVM_BENCH_PROFILE_DIR set, every agent writes a V8 CPU profile to DIR/agent as it exits. */
function profiledAgent(): string[] {
  const dir = process.env.MVM_BENCH_PROFILE_DIR;
  if (!dir) return [];
  const [node, ...rest] = defaultAgentCommand();
  return [`agent_command = ${JSON.stringify([node, '--cpu-prof', `--cpu-prof-dir=${dir}/agent`, ...rest])}`];
}

/**
 * Sections this version of the factory may or may not know: its reservation API on a free
 * loopback port (its default port is fixed, and two factories — or another engineer's — would
 * collide). Each is kept only when the config checker accepts it.
 */
function optionalSections(v: ConfigValues, file: string): string[] {
  const candidates = ['[api]\nlisten = "127.0.0.1:0"\n'];
  const base = `[general]\nbaseurl = "${v.baseUrl}"\n[factory]\ntoken = "x"\n[target.${TARGET}]\n[testbed.a]\ntargets = ["${TARGET}"]\n`;
  return candidates.filter((section) => {
    try {
      parseConfig(base + section, file);
      return true;
    } catch (err) {
      if (err instanceof ConfigError) return false;
      throw err;
    }
  });
}

/** Starts `mvm factory` and waits for its first pass and for every testbed to be free. */
export async function startFactory(ctx: BenchContext, lab: BenchLab, name = 'factory'): Promise<Proc> {
  const proc = startMvm(name, ['factory', '-f', lab.configFile, '-d', lab.dbFile], { logFile: ctx.log(name) });
  await proc.waitForLine(FACTORY_READY, 120_000);
  await waitTestbedsFree(lab, 120_000);
  return proc;
}

/** Resolves once `mvm factory status` would show every testbed free (no job, no check, healthy). */
export async function waitTestbedsFree(lab: BenchLab, timeoutMs: number): Promise<void> {
  await waitFor(
    () => {
      const s = readStatus(lab.dbFile);
      return (
        s.testbeds.length === lab.testbeds && s.testbeds.every((t) => t.state === 'free') && s.instances.length === 0
      );
    },
    `all ${lab.testbeds} testbeds free`,
    timeoutMs,
    100,
  );
}

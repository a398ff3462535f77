// Test fixtures for the factory: a real `mvm server`, a target per testbed kind, a factory token,
// a user, and a factory config whose agent is the scripted agent (test/fixtures/agents/scripted-agent.mjs).
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Job } from '../../shared/api/types.js';
import { HttpClient } from '../../shared/http.js';
import { projectPath } from '../../shared/paths.js';
import { sameProcessAlive } from '../../factory/executor/proc.js';
import { startMvm, waitFor, type MvmProcess } from '../helpers/mvm-process.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { apiCaller, type ApiCall } from '../helpers/api-call.js';
import { toml, type TomlTable } from '../helpers/toml.js';

export const SCRIPTED_AGENT = projectPath('test', 'fixtures', 'agents', 'scripted-agent.mjs');

export interface LabTestbed {
  name: string;
  targets: string[];
  enabled?: boolean;
  /** Its one device (default: an axeos 601 at a port nobody answers on). */
  hardware?: string;
  attributes?: string[];
  /** Extra lines for the device table (address, sim, …). */
  deviceKeys?: string[];
  /** Extra lines for the testbed table (task_user, …). */
  testbedKeys?: string[];
}

export interface Lab {
  srv: TestServer;
  dir: string;
  configFile: string;
  dbFile: string;
  factoryToken: string;
  user: HttpClient;
  userToken: string;
  /** target name → id */
  targetIds: Map<string, string>;
  submit(target: string, script: string, name?: string): Promise<string>;
  job(id: string): Promise<Job>;
  waitJob(id: string, states: string[], timeoutMs?: number): Promise<Job>;
  /** The factory API as the factory sees it. */
  factoryApi: HttpClient;
}

export interface LabOptions {
  testbeds: LabTestbed[];
  /** Extra lines for [factory]. */
  factoryKeys?: string;
  serverArgs?: string[];
  /** Use the real `mvm agent run` (the default agent_command) instead of the scripted agent. */
  realAgent?: boolean;
  /** The [health] section (default: health checks off). */
  healthKeys?: string;
  /** The [api] section (default: on a free loopback port). */
  apiKeys?: string;
}

let portSeq = 0;

export async function startLab(t: { teardown(fn: () => void | Promise<void>): void }, opts: LabOptions): Promise<Lab> {
  const srv = await startServer(t, { args: ['--tick', '200ms', ...(opts.serverArgs ?? [])] });
  const dir = tempDir(t, 'mvm-factory-');
  const targetNames = [...new Set(opts.testbeds.flatMap((tb) => tb.targets))];
  const targetIds = new Map<string, string>();
  for (const n of targetNames) targetIds.set(n, await srv.createTarget(n));
  const factoryToken = await srv.createFactory('lab');
  const userToken = await srv.createUser('tester');
  const user = srv.client(userToken);
  const configFile = join(dir, 'factory.toml');
  writeFactoryConfig(configFile, { url: srv.url, adminToken: srv.adminToken }, factoryToken, opts);
  const lab: Lab = {
    srv,
    dir,
    configFile,
    dbFile: join(dir, 'factory.sqlite3'),
    factoryToken,
    user,
    userToken,
    targetIds,
    factoryApi: srv.client(factoryToken),
    submit: (target, script, name) => srv.submitJob(userToken, { target, script, name }),
    job: (id) => user.get<Job>(`/0/job/${id}`),
    async waitJob(id, states, timeoutMs = 30_000) {
      const job = await waitFor(
        async () => {
          const j = await user.get<Job>(`/0/job/${id}`);
          return states.includes(j.state) ? j : undefined;
        },
        `job ${id} to be ${states.join('|')}`,
        timeoutMs,
        100,
      );
      return job!;
    },
  };
  return lab;
}

/** Writes a factory config for `opts.testbeds` against the server at `srv.url`, with `factoryToken`. */
export function writeFactoryConfig(
  configFile: string,
  srv: { url: string; adminToken: string },
  factoryToken: string,
  opts: Omit<LabOptions, 'serverArgs'>,
): void {
  const targetNames = [...new Set(opts.testbeds.flatMap((tb) => tb.targets))];
  const lines = [
    '[general]',
    `baseurl = "${srv.url}"`,
    `admin_token = "${srv.adminToken}"`,
    '',
    '[factory]',
    `token = "${factoryToken}"`,
    'poll_interval = "500ms"',
    'lease_wait = "500ms"',
    'stop_grace = "2s"',
    'drain_timeout = "20s"',
    opts.realAgent ? '' : `agent_command = ["${process.execPath}", "${SCRIPTED_AGENT}"]`,
    opts.factoryKeys ?? '',
    '',
    // These testbeds' devices are addresses nobody answers on: health is not what these tests are about.
    opts.healthKeys ?? '[health]\nenabled = false',
    '',
    // Many factories run at once in the tests: each API on a free port.
    opts.apiKeys ?? '[api]\nlisten = "127.0.0.1:0"',
    '',
    ...targetNames.map((n) => `[target.${n}]\n`),
  ];
  for (const tb of opts.testbeds) {
    lines.push(
      `[testbed.${tb.name}]`,
      `targets = ${JSON.stringify(tb.targets)}`,
      `enabled = ${tb.enabled ?? true}`,
      'baseline = "v2.9.0"',
      ...(tb.testbedKeys ?? []),
    );
    lines.push(
      `[testbed.${tb.name}.devices.miner]`,
      'driver = "axeos"',
      `hardware = "${tb.hardware ?? '601'}"`,
      `attributes = ${JSON.stringify(tb.attributes ?? [])}`,
      ...(tb.deviceKeys ?? [`address = "http://127.0.0.1:${18600 + ++portSeq}"`]),
      '',
    );
  }
  writeFileSync(configFile, lines.join('\n'));
}

export interface FactoryStart {
  env?: Record<string, string | undefined>;
  /** Wait for "mvm factory started" (default), within `timeoutMs` (default 30 s). */
  wait?: boolean;
  timeoutMs?: number;
  /** Stops the factory at this test's end (registered before the wait, so a failed start leaks nothing). */
  t?: { teardown(fn: () => void | Promise<void>): void };
}

/** Starts `mvm factory -f configFile -d dbFile`: the one place tests start a factory process. */
export async function runFactory(configFile: string, dbFile: string, opts: FactoryStart = {}): Promise<MvmProcess> {
  const p = startMvm(['factory', '-f', configFile, '-d', dbFile], { env: opts.env ?? {} });
  opts.t?.teardown(async () => void (await p.stop(5000)));
  if (opts.wait ?? true) await p.waitForLine(/^mvm factory started$/, opts.timeoutMs ?? 30_000);
  return p;
}

/** Starts the lab's factory (on another database with `dbFile`). */
export function startFactory(lab: Lab, opts: FactoryStart & { dbFile?: string } = {}): Promise<MvmProcess> {
  return runFactory(lab.configFile, opts.dbFile ?? lab.dbFile, opts);
}

/** A job script that holds until the file `gate` exists (the scripted agent reports the testbed itself). */
export function heldScript(gate: string): string {
  return `while [ ! -e '${gate}' ]; do sleep 0.05; done; echo released`;
}

/** The testbed a job ran on, from the scripted agent's "scripted agent on testbed X" event. */
export async function testbedOfJob(lab: Lab, id: string): Promise<string | undefined> {
  const evs = await jobEvents(lab, id);
  for (const e of evs) {
    const m = /scripted agent on testbed (\S+)/.exec(e.payload);
    if (m) return m[1];
  }
  return undefined;
}

/** The job's events (all streams). */
export async function jobEvents(lab: Lab, id: string): Promise<Array<{ stream: string; payload: string }>> {
  return lab.user.get(`/0/jobs/${id}/events`, { query: { minseq: 0 } });
}

/** Live instances straight from the factory's database file (as another process sees it). */
export function liveRows(
  dbFile: string,
): Array<{ id: string; testbed: string; state: string; worker_id: string; agent_pid: number | null }> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare("select id, testbed, state, worker_id, agent_pid from instances where state <> 'destroyed' order by id")
      .all() as never;
  } finally {
    db.close();
  }
}

export function allRows(dbFile: string): Array<{
  id: string;
  testbed: string;
  state: string;
  worker_id: string;
  agent_pid: number | null;
  failure: string | null;
  reason: string | null;
}> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('select * from instances order by id').all() as never;
  } finally {
    db.close();
  }
}

/** Alive and not a zombie (an exited child of a killed factory may wait a while to be reaped). */
export function processAlive(pid: number): boolean {
  return sameProcessAlive(pid, undefined);
}

export interface LabApi {
  url: string;
  adminToken: string;
  /** A request to the factory API; never throws for a status. */
  call: ApiCall;
}

/** The factory API of a started factory: its URL (from the start-up line) and the admin token kept beside its database. */
export async function factoryApi(p: MvmProcess, dbFile: string): Promise<LabApi> {
  const line = await p.waitForLine(/^mvm factory API at /, 30_000);
  const url = /^mvm factory API at (\S+)/.exec(line)![1];
  const adminToken = readFileSync(join(dirname(dbFile), 'factory-api-admin-token'), 'utf8').trim();
  return {
    url,
    adminToken,
    call: apiCaller(url, adminToken),
  };
}

/** A testbed as the factory API shows it. */
export async function testbedOf(api: LabApi, name: string): Promise<any> {
  return (await api.call('GET', `/v1/testbeds/${name}`)).body;
}

/** A testbed's history, oldest first. */
export async function testbedHistory(api: LabApi, name: string): Promise<Array<{ kind: string; message: string }>> {
  const events = (await api.call('GET', `/v1/testbeds/${name}/history?limit=200`)).body.events as Array<{
    kind: string;
    message: string;
  }>;
  return events.reverse();
}

export interface OneBitaxeConfig {
  serverUrl: string;
  factoryToken: string;
  /** The id of target `bitaxe` on the server. */
  targetId: string;
  /** The simulated Bitaxe 601 the testbed's one device (`miner`) is. */
  simUrl: string;
  /** The testbed's name (default gamma). */
  testbed?: string;
  /** [factory] keys besides the token (polling every 300 ms by default). */
  factory?: TomlTable;
  /** [health] (default: a short first check, then none: no retries, no schedule). */
  health?: TomlTable;
  /** The testbed's own keys besides its target (an agent table, …). */
  testbedKeys?: TomlTable;
  /** The device's keys besides driver, hardware and address (options: fast polling and settling by default). */
  device?: TomlTable;
}

/** A factory config of one testbed with one simulated Bitaxe, for tests that run it all as processes. */
export function oneBitaxeFactoryToml(o: OneBitaxeConfig): string {
  return toml({
    general: { baseurl: o.serverUrl },
    factory: { token: o.factoryToken, poll_interval: '300ms', lease_wait: '300ms', ...o.factory },
    health: o.health ?? { window: '300ms', samples: 1, retry: '1h', interval: '0s' },
    api: { listen: '127.0.0.1:0' },
    target: { bitaxe: { id: o.targetId } },
    testbed: {
      [o.testbed ?? 'gamma']: {
        targets: ['bitaxe'],
        ...o.testbedKeys,
        devices: {
          miner: {
            driver: 'axeos',
            hardware: '601',
            address: o.simUrl,
            // The simulator reboots fast: poll and settle quickly.
            options: { poll_interval_ms: 200, settle_ms: 500, reboot_timeout_ms: 20000 },
            ...o.device,
          },
        },
      },
    },
  });
}

/**
 * Starts a factory of one simulated Bitaxe against `srv` (target bitaxe and a factory token made
 * there) with its config and database in `dir`; stopped with the test.
 */
export async function startOneBitaxeFactory(
  t: { teardown(fn: () => void | Promise<void>): void },
  srv: TestServer,
  dir: string,
  o: Omit<OneBitaxeConfig, 'serverUrl' | 'factoryToken' | 'targetId'> & FactoryStart,
): Promise<{ factory: MvmProcess; api: LabApi; dbFile: string }> {
  const config = join(dir, 'factory.toml');
  const dbFile = join(dir, 'factory.sqlite3');
  const targetId = await srv.createTarget('bitaxe');
  const factoryToken = await srv.createFactory('lab');
  writeFileSync(config, oneBitaxeFactoryToml({ ...o, serverUrl: srv.url, factoryToken, targetId }));
  const factory = await runFactory(config, dbFile, { t, env: o.env, timeoutMs: o.timeoutMs });
  return { factory, api: await factoryApi(factory, dbFile), dbFile };
}

// A real `mvm fleet` daemon for tests: a config file and a temp --data folder, a free port, the
// admin token it made, and a small HTTP helper that never throws for a status. Run `npx tsc -p .`
// first: the child runs the compiled dist/.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMvm, runMvm, type MvmProcess } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

export interface FleetDaemon {
  proc: MvmProcess;
  url: string;
  adminToken: string;
  dataDir: string;
  configFile: string;
  call(
    method: string,
    path: string,
    opts?: { token?: string | null; body?: unknown },
  ): Promise<{ status: number; body: any }>;
  /** Runs `mvm fleet …` (a client command) against this daemon with the admin token (or `token`). */
  cli(args: string[], token?: string): Promise<{ code: number | string; stdout: string; stderr: string }>;
  stop(): Promise<number | string>;
}

export async function startFleet(
  t: { teardown(fn: () => void | Promise<void>): void },
  config: string,
  opts: { env?: Record<string, string>; dataDir?: string } = {},
): Promise<FleetDaemon> {
  const dir = tempDir(t, 'mvm-fleet-d-');
  const dataDir = opts.dataDir ?? join(dir, 'data');
  const configFile = join(dir, 'fleet.toml');
  writeFileSync(configFile, config);
  const proc = startMvm(['fleet', '--config', configFile, '--data', dataDir, '--listen', '127.0.0.1:0'], {
    env: opts.env ?? {},
  });
  t.teardown(() => proc.stop().then(() => undefined));
  const line = await proc.waitForLine(/^mvm fleet API at /, 30_000);
  await proc.waitForLine(/^mvm fleet started/, 30_000);
  const url = /^mvm fleet API at (\S+)/.exec(line)![1];
  const adminToken =
    opts.env?.MVM_FLEET_API_TOKEN ?? readFileSync(join(dataDir, 'fleet-api-admin-token'), 'utf8').trim();
  const daemon: FleetDaemon = {
    proc,
    url,
    adminToken,
    dataDir,
    configFile,
    async call(method, path, o = {}) {
      const token = o.token === undefined ? adminToken : o.token;
      const res = await fetch(url + path, {
        method,
        headers: {
          ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
          ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep the text */
      }
      return { status: res.status, body };
    },
    cli(args, token) {
      return runMvm(['fleet', ...args], {
        env: {
          MVM_FLEET_URL: url,
          MVM_FLEET_TOKEN: token ?? adminToken,
          MVM_PROFILE: join(dir, 'no-profile.toml'),
          MVM_LOG_LEVEL: 'warn',
        },
        timeoutMs: 120_000,
      });
    },
    stop: () => proc.stop(),
  };
  return daemon;
}

// A real `mvm fleet` daemon for tests: a config file and a temp --data folder, a free port, the
// admin token it made, and a small HTTP helper that never throws for a status. Run `npx tsc -p .`
// first: the child runs the compiled dist/.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { startMvm, runMvm, waitFor, type MvmProcess } from '../helpers/mvm-process.js';
import { factoryApi, startFactory, startLab, testbedOf } from '../factory/fixture.js';
import { tempDir } from '../helpers/tmp.js';
import { apiCaller, type ApiCall } from '../helpers/api-call.js';

export interface FleetDaemon {
  proc: MvmProcess;
  url: string;
  adminToken: string;
  dataDir: string;
  configFile: string;
  /** A request to the fleet API; never throws for a status. */
  call: ApiCall;
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
    call: apiCaller(url, adminToken),
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

/**
 * A real job server and factory whose one testbed, gamma-1, is the device at `deviceUrl`, checked
 * healthy, with an API user `fleet` for the fleet; and the config a fleet daemon reads it with: the
 * factory's own config with [fleet] and [lab] added, then `extra`.
 */
export async function factoryForFleet(t: Test, deviceUrl: string) {
  const lab = await startLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'], deviceKeys: [`address = "${deviceUrl}"`] }],
  });
  const factory = await startFactory(lab);
  t.teardown(() => factory.stop().then(() => undefined));
  const api = await factoryApi(factory, lab.dbFile);
  const fleetUser = await api.call('POST', '/v1/users', { body: { name: 'fleet' } });
  t.equal(fleetUser.status, 201);
  await waitFor(async () => (await testbedOf(api, 'gamma-1')).health === 'good', 'the testbed checked');
  const fleetConfig = (extra = '') =>
    readFileSync(lab.configFile, 'utf8') +
    [
      '',
      '[fleet]',
      'poll_interval = "300ms"',
      'udp_port = 0',
      '',
      '[lab]',
      `url = "${api.url}"`,
      `token = "${fleetUser.body.token}"`,
      '',
      extra,
    ].join('\n');
  return { lab, factory, api, fleetConfig };
}

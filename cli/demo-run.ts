// `mvm demo`: the whole lab on this machine. The job server, a simulated lab from
// config.example.toml (two Bitaxes, an Avalon Nano 3S, an NMMiner, an SP testbed driven by a
// command) and the factory; then a sample job that flashes firmware onto a simulated Bitaxe, runs
// a test definition with checks and controls the miner, followed live; its results; the testbed's
// return to baseline. Then the stack stays up until Ctrl-C, which stops everything. All state is
// in one folder.
import TOML from '@iarna/toml';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeError, MvmError } from '../shared/errors.js';
import { HttpClient } from '../shared/http.js';
import { newToken } from '../shared/ids.js';
import { parseListen } from '../shared/listen.js';
import { MVM_BIN } from '../shared/paths.js';
import { installShutdown } from '../shared/shutdown.js';
import { createLogger } from '../shared/log.js';
import { ADMIN_TOKEN_FILE } from '../factory/api/serve.js';
import { startLab, type Lab } from '../sim/inventory-sims.js';
import { startOctopusSim, type OctopusSim } from '../sim/octopus/index.js';
import { ensureLabUser, ensureServerAccounts } from './demo/accounts.js';
import { demoLabConfig, freeTcpPort, readExample, type Table } from './demo/lab-config.js';
import { writeFirmwareLibrary, writeSample } from './demo/sample.js';
import { runSampleJob, waitForRestore, waitForTestbed } from './demo/sample-run.js';
import {
  startDemoFactory,
  startDemoFleet,
  startDemoServer,
  type DemoFactory,
  type DemoFleet,
  type DemoServer,
} from './demo/stack.js';

export interface DemoOptions {
  data: string;
  listen: string;
  apiListen: string;
  fleetListen: string;
  freePorts: boolean;
  sample: boolean;
}

interface DemoProfile {
  url?: string;
  token?: string;
  admin_token?: string;
  lab_url?: string;
  lab_token?: string;
  fleet_url?: string;
  fleet_token?: string;
}

function readProfile(file: string): DemoProfile {
  if (!existsSync(file)) return {};
  try {
    return TOML.parse(readFileSync(file, 'utf8')) as DemoProfile;
  } catch (err) {
    throw new MvmError('CONFIG_INVALID', `cannot read the demo profile ${file}: ${(err as Error).message}`, {
      hint: 'delete it (the demo makes a new one) or pick another --data folder',
    });
  }
}

const say = (line = '') => process.stdout.write(line + '\n');

export async function runDemo(o: DemoOptions): Promise<void> {
  const dataDir = resolve(o.data);
  const dirs = {
    logs: join(dataDir, 'logs'),
    firmware: join(dataDir, 'firmware'),
    sample: join(dataDir, 'sample'),
    bin: join(dataDir, 'bin'),
    sp: join(dataDir, 'sp-state'),
    results: join(dataDir, 'results'),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
  const profileFile = join(dataDir, 'profile.toml');
  const old = readProfile(profileFile);
  // The factory's job-server token is the factory's secret, not the person's: its own file.
  const factoryTokenFile = join(dataDir, 'factory-token');
  const oldFactoryToken = existsSync(factoryTokenFile) ? readFileSync(factoryTokenFile, 'utf8').trim() : undefined;
  const adminToken = old.admin_token ?? newToken();
  const shutdown = installShutdown(createLogger({ level: 'warn' }));
  let server: DemoServer | undefined;
  let lab: Lab | undefined;
  let factory: DemoFactory | undefined;
  let fleet: DemoFleet | undefined;
  let octopus: OctopusSim | undefined;
  try {
    say(`mvm demo: state in ${dataDir} (logs in ${dirs.logs})`);
    const { host, port } = parseListen(o.listen);
    server = await startDemoServer(join(dataDir, 'server'), host, port, adminToken, join(dirs.logs, 'server.log'));
    say(`  job server     ${server.url}`);

    // The simulated SP tool, as an executable the factory config can name.
    const spRunner = join(dirs.bin, 'sp-runner');
    writeFileSync(spRunner, `#!/bin/sh\nexec "${process.execPath}" "${MVM_BIN}" sim sp-runner "$@"\n`, { mode: 0o755 });
    const apiListen = o.freePorts ? `127.0.0.1:${await freeTcpPort()}` : o.apiListen;
    const targets = Object.keys(readExample().target ?? {});
    const accounts = await ensureServerAccounts(server.url, adminToken, targets, {
      token: old.token,
      factory_token: oldFactoryToken,
    });
    writeFileSync(factoryTokenFile, accounts.factoryToken + '\n', { mode: 0o600 });
    const { text, config } = await demoLabConfig({
      serverUrl: server.url,
      factoryToken: accounts.factoryToken,
      adminToken,
      firmwareDir: dirs.firmware,
      spRunner,
      spStateDir: dirs.sp,
      apiListen,
      freePorts: o.freePorts,
    });
    const configFile = join(dataDir, 'factory.toml');
    writeFileSync(configFile, text, { mode: 0o600 });
    writeFirmwareLibrary(dirs.firmware, axeosBaselines(config));

    lab = await startLab(configFile);
    for (const d of lab.devices) say(`  simulated ${d.kind.padEnd(8)} ${d.address}  (${d.testbed}/${d.name})`);
    factory = await startDemoFactory(
      configFile,
      join(dataDir, 'factory.sqlite3'),
      join(dirs.logs, 'factory.log'),
      shutdown.graceful,
    );
    say(`  factory API    ${factory.apiUrl}`);
    const labToken = await ensureLabUser(factory.apiUrl, factory.adminToken, old.lab_token);
    // The fleet controller reads the same config: every simulated device is a miner; it changes a
    // testbed's device only under a reservation, taken with the demo's lab token.
    // its [energy] prices come from the Octopus simulator (what `mvm sim octopus` serves): Agile, region C
    octopus = await startOctopusSim({ listen: o.freePorts ? '127.0.0.1:0' : '127.0.0.1:9330', region: 'C' });
    say(`  Octopus prices ${octopus.url}   (simulated Agile ${octopus.product}, region ${octopus.region})`);
    const fleetConfig = join(dataDir, 'fleet.toml');
    writeFileSync(
      fleetConfig,
      demoFleetConfig(text, config, factory.apiUrl, labToken, server.url, accounts.userToken, octopus),
      { mode: 0o600 },
    );
    const fleetListen = o.freePorts ? `127.0.0.1:${await freeTcpPort()}` : o.fleetListen;
    fleet = await startDemoFleet(
      fleetConfig,
      join(dataDir, 'fleet'),
      fleetListen,
      join(dirs.logs, 'fleet.log'),
      shutdown.graceful,
    );
    say(`  fleet API      ${fleet.apiUrl}`);
    const profile = {
      url: server.url,
      token: accounts.userToken,
      admin_token: adminToken,
      lab_url: factory.apiUrl,
      lab_token: labToken,
      fleet_url: fleet.apiUrl,
      fleet_token: fleet.adminToken,
    };
    writeFileSync(profileFile, TOML.stringify(profile), { mode: 0o600 });
    chmodSync(profileFile, 0o600);

    const sample = writeSample(dirs.sample);
    const labApi = new HttpClient({ baseUrl: factory.apiUrl, token: labToken });
    if (o.sample) {
      await waitForTestbed(labApi, 'bitaxe-gamma', say, shutdown.graceful);
      const r = await runSampleJob({
        spec: sample.spec,
        results: dirs.results,
        serverUrl: server.url,
        userToken: accounts.userToken,
        labUrl: factory.apiUrl,
        labToken,
        say,
      });
      await waitForRestore(labApi, 'bitaxe-gamma', r.job, say, shutdown.graceful);
    }
    const env = `MVM_PROFILE=${profileFile}`;
    say('');
    say(`  job server   ${server.url}`);
    say(`  factory API  ${factory.apiUrl}   (OpenAPI: ${factory.apiUrl}/openapi.json)`);
    say(`  fleet API    ${fleet.apiUrl}   (OpenAPI: ${fleet.apiUrl}/openapi.json)`);
    say(`  fleet token  ${fleet.adminToken}`);
    say(`  web UI       ${fleet.apiUrl}/   (log in with the fleet token)`);
    say(`  admin tokens job server: admin_token in ${profileFile} (what \`${env} npx mvm admin …\` uses)`);
    say(`               factory API: ${join(dataDir, ADMIN_TOKEN_FILE)}`);
    say(
      `  energy       [energy] prices from the simulated Octopus API at ${octopus.url}: ${env} npx mvm fleet energy current; rules: npx mvm fleet rules list`,
    );
    say('  watch the miners:');
    say(`    ${env} npx mvm fleet miners`);
    say(`    curl -H "Authorization: Bearer ${fleet.adminToken}" ${fleet.apiUrl}/api/dashboard/stats`);
    say('  submit another job:');
    say(`    ${env} npx mvm job run --spec ${sample.spec} --wait --outputs ${join(dirs.results, 'again')}`);
    say('  look at the lab:');
    say(`    ${env} npx mvm testbeds list`);
    say(`    ${env} npx mvm testbeds reserve bitaxe-supra --ttl 30m --reason "trying things"`);
    say(
      `    npx mvm runner telemetry --driver axeos --address ${lab.devices.find((d) => d.kind === 'axeos')?.address ?? 'http://127.0.0.1:18601'}`,
    );
    const nm = nmminerDevice(config);
    if (nm) {
      // An NMMiner answers no request: its telemetry comes as UDP datagrams to the port the option names.
      say(
        `    npx mvm runner telemetry --driver nmminer --address ${nm.address} --option telemetry_port=${nm.telemetryPort}`,
      );
    }
    say('mvm demo: ready. The lab stays up until Ctrl-C, which stops everything.');
    await new Promise<void>((r) =>
      shutdown.graceful.aborted ? r() : shutdown.graceful.addEventListener('abort', () => r(), { once: true }),
    );
  } catch (err) {
    if (!shutdown.graceful.aborted) throw err;
  } finally {
    say('mvm demo: stopping');
    await fleet?.stop().catch((err) => say(`  fleet: ${describeError(err)}`));
    await octopus?.close();
    const left = await factory?.stop().catch((err) => (say(`  factory: ${describeError(err)}`), undefined));
    if (left?.agentsStopped) say(`  stopped ${left.agentsStopped} agent(s) the factory left running`);
    await lab?.close();
    await server?.close();
    shutdown.dispose();
    say('mvm demo: stopped');
  }
}

/** The fleet's config: the demo's factory config, its [fleet] section, the [lab] it reserves testbeds through, and the [jobs] the web UI's jobs pages read. */
function demoFleetConfig(
  factoryText: string,
  config: Table,
  labUrl: string,
  labToken: string,
  jobsUrl: string,
  jobsToken: string,
  octopus: Pick<OctopusSim, 'url' | 'product' | 'region'>,
): string {
  // NMMiner broadcasts go to its telemetry port: the fleet listens there, on 0.0.0.0 as a runner's
  // health check does (a broadcast reaches every socket bound to 0.0.0.0 on the port).
  let udpPort = 12345;
  for (const tb of Object.values(config.testbed ?? {}) as Array<Table>) {
    for (const d of Object.values(tb.devices ?? {}) as Array<Table>) {
      if (d.driver === 'nmminer' && typeof d.options?.telemetry_port === 'number') udpPort = d.options.telemetry_port;
    }
  }
  return `${factoryText}\n[fleet]\npoll_interval = "5s"\nudp_port = ${udpPort}\nudp_address = "0.0.0.0"\n\n[lab]\nurl = ${JSON.stringify(labUrl)}\ntoken = ${JSON.stringify(labToken)}\n\n[jobs]\nurl = ${JSON.stringify(jobsUrl)}\ntoken = ${JSON.stringify(jobsToken)}\n\n[energy]\nsource = "octopus"\nflat_price = 25\nfetch_interval = "15m"\n\n[energy.octopus]\nproduct = ${JSON.stringify(octopus.product)}\nregion = ${JSON.stringify(octopus.region)}\nbase_url = ${JSON.stringify(octopus.url)}\n`;
}

/** Every firmware version an AxeOS device of the lab has at rest: the library must hold them. */
function axeosBaselines(config: Table): string[] {
  const out: string[] = [];
  for (const tb of Object.values(config.testbed ?? {}) as Array<Table>) {
    for (const d of Object.values(tb.devices ?? {}) as Array<Table>) {
      if (d.driver === 'axeos') {
        const v = d.software ?? tb.baseline;
        if (typeof v === 'string') out.push(v);
      }
    }
  }
  return out;
}

/** The demo's NMMiner: its config address and the UDP port its telemetry datagrams arrive on. */
function nmminerDevice(config: Record<string, unknown>): { address: string; telemetryPort: number } | undefined {
  for (const tb of Object.values((config.testbed ?? {}) as Record<string, { devices?: Record<string, unknown> }>)) {
    for (const dev of Object.values(tb.devices ?? {})) {
      const d = dev as { driver?: unknown; address?: unknown; options?: { telemetry_port?: unknown } };
      if (d.driver === 'nmminer' && typeof d.address === 'string')
        return { address: d.address, telemetryPort: Number(d.options?.telemetry_port ?? 12345) };
    }
  }
  return undefined;
}

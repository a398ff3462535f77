// The demo's factory config: config.example.toml with what only the demo knows filled in — the
// job server and its tokens, the firmware library, the simulated SP tool, fast timings for
// simulators — and, with free ports, every simulated device moved to a port nobody uses.
import TOML, { type JsonMap } from '@iarna/toml';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { projectPath } from '../../shared/paths.js';

/** The example config's TOML tree, edited in place; the factory's config loader checks its shape at start. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an untyped TOML tree, checked by the loader
export type Table = Record<string, any>;

export interface DemoLabInput {
  serverUrl: string;
  factoryToken: string;
  adminToken: string;
  firmwareDir: string;
  /** The simulated SP tool (a shim that runs `mvm sim sp-runner`) and its state folder. */
  spRunner: string;
  spStateDir: string;
  apiListen: string;
  freePorts: boolean;
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

export function readExample(): Table {
  return TOML.parse(readFileSync(projectPath('config.example.toml'), 'utf8')) as Table;
}

/** Moves every simulated device to free ports (the addresses in the example are fixed ones). */
async function movePorts(testbeds: Table): Promise<void> {
  for (const tb of Object.values(testbeds)) {
    for (const dev of Object.values((tb.devices ?? {}) as Table)) {
      if (dev.sim === undefined) continue;
      if (dev.driver === 'axeos') dev.address = `http://127.0.0.1:${await freeTcpPort()}`;
      else if (dev.driver === 'cgminer') dev.address = `127.0.0.1:${await freeTcpPort()}`;
      else if (dev.driver === 'nmminer') {
        const [config, telemetry, report] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
        dev.address = `127.0.0.1:${config}`;
        dev.options = { ...dev.options, config_port: config, telemetry_port: telemetry };
        dev.sim = { ...dev.sim, telemetry: `127.255.255.255:${telemetry}`, report: `127.0.0.1:${report}` };
      }
    }
  }
}

export async function demoLabConfig(i: DemoLabInput): Promise<{ text: string; config: Table }> {
  const c = readExample();
  c.general = { baseurl: i.serverUrl, admin_token: i.adminToken };
  c.factory = {
    ...c.factory,
    token: i.factoryToken,
    // Simulators answer at once: pass often, and stop quickly on Ctrl-C.
    poll_interval: '1s',
    lease_wait: '1s',
    drain_timeout: '10s',
    stop_grace: '3s',
    firmware_dir: i.firmwareDir,
  };
  c.health = { ...c.health, window: '2s', samples: 2, retry: '5s', timeout: '2m' };
  c.api = { ...c.api, listen: i.apiListen };
  for (const [name, tb] of Object.entries(c.testbed as Table)) {
    if (typeof tb.sp_type === 'string') {
      tb.sp_runner_path = i.spRunner;
      tb.sp_runner_config = `${i.spStateDir}/${name}.json`;
    }
    for (const dev of Object.values((tb.devices ?? {}) as Table)) {
      // Simulated Bitaxes reboot in about 1.5 s: poll and settle accordingly.
      if (dev.driver === 'axeos')
        dev.options = { poll_interval_ms: 300, settle_ms: 2000, reboot_timeout_ms: 30_000, ...dev.options };
    }
  }
  if (i.freePorts) await movePorts(c.testbed as Table);
  const text = `# Written by \`mvm demo\` from config.example.toml: the demo's job server, tokens and simulators.\n# Edit config.example.toml, not this file (it is written anew at every start).\n\n${TOML.stringify(c as JsonMap)}`;
  return { text, config: c };
}

// Checking and normalising `[testbed.NAME]` tables: targets, devices, agent placement, and the
// seed's SP keys (sp_type, sp_runner_path, sp_runner_config), which stand for one `command` device.
import { isModeName, MODE_NAMES } from '../../runner/drivers/modes.js';
import { accessSync, constants } from 'node:fs';
import { isUlid } from '../../shared/ids.js';
import { lookupUser, USER_NAME } from '../../shared/passwd.js';
import { didYouMean, isTable, join, Problems, type Table } from './problems.js';
import { expandHome, resolveConfigPath } from './paths.js';
import {
  DEVICE_DRIVERS,
  type AgentPlacement,
  type DeviceConfig,
  type DeviceDriver,
  type DeviceSettings,
  type PoolConfig,
  type TestbedConfig,
} from './types.js';

const TESTBED_KEYS = [
  'targets',
  'enabled',
  'baseline',
  'description',
  'agent',
  'devices',
  'sp_type',
  'sp_runner_path',
  'sp_runner_config',
  'task_user',
] as const;
const DEVICE_KEYS = [
  'driver',
  'hardware',
  'software',
  'address',
  'attributes',
  'options',
  'pools',
  'settings',
  'expected_hashrate_ghs',
  'max_temperature',
  'sim',
] as const;
const POOL_KEYS = ['url', 'user', 'password'] as const;
const SETTINGS_KEYS = ['mode', 'frequency', 'voltage', 'fan'] as const;
const LOCAL_KEYS = ['mode'] as const;
const SSH_KEYS = [
  'mode',
  'host',
  'port',
  'user',
  'identity_file',
  'known_hosts',
  'host_key',
  'remote_workdir',
  'remote_command',
  'lock_dir',
] as const;

export interface TestbedContext {
  p: Problems;
  configFile: string;
  /** Names of `[target.NAME]` tables. */
  targetNames: Set<string>;
  /** address → "testbed.X.devices.Y", to find the same device listed twice. */
  addresses: Map<string, string>;
  /** `[factory] task_user`: the default for testbeds without their own. */
  taskUser?: string;
}

export function readTestbed(ctx: TestbedContext, name: string, raw: unknown): TestbedConfig | undefined {
  const { p } = ctx;
  const prefix = join('testbed', name);
  if (!isTable(raw)) {
    p.add(prefix, 'must be a table', `write [${prefix}] followed by its keys`);
    return undefined;
  }
  p.unknownKeys(raw, prefix, TESTBED_KEYS);
  const targets = p.stringArray(raw, prefix, 'targets', { required: true, nonEmpty: true }) ?? [];
  for (const t of targets) {
    if (isUlid(t) || ctx.targetNames.has(t)) continue;
    const guess = didYouMean(t, ctx.targetNames);
    p.add(
      join(prefix, 'targets'),
      `names target "${t}", which is not defined`,
      guess
        ? `did you mean "${guess}"? Otherwise add [target.${t}] or give the target's id (a ULID)`
        : `add [target.${t}] or give the target's id (a ULID)`,
    );
  }
  const enabled = p.boolean(raw, prefix, 'enabled') ?? true;
  const baseline = p.string(raw, prefix, 'baseline');
  const description = p.string(raw, prefix, 'description');
  const agent = readPlacement(ctx, prefix, raw.agent);
  const ownTaskUser = p.string(raw, prefix, 'task_user', { nonEmpty: true });
  const taskUser = ownTaskUser ?? ctx.taskUser;
  if (ownTaskUser !== undefined) checkTaskUser(p, join(prefix, 'task_user'), ownTaskUser, agent.mode === 'local');
  else if (taskUser !== undefined && agent.mode === 'local')
    checkTaskUser(p, 'factory.task_user', taskUser, true, ` (for ${prefix})`);

  const devices: DeviceConfig[] = [];
  const devTable = p.table(raw, prefix, 'devices');
  for (const [dname, draw] of Object.entries(devTable ?? {})) {
    const d = readDevice(ctx, join(join(prefix, 'devices'), dname), dname, draw);
    if (d) devices.push(d);
  }
  const sp = readSeedSp(ctx, prefix, raw);
  if (sp) {
    if (devices.some((d) => d.name === sp.name)) {
      p.add(
        join(prefix, 'sp_type'),
        `stands for a device named "${sp.name}", which [${prefix}.devices] also defines`,
        'rename one of them',
      );
    } else devices.push(sp);
  }
  return {
    name,
    targets,
    enabled,
    ...(baseline !== undefined ? { baseline } : {}),
    ...(description !== undefined ? { description } : {}),
    agent,
    devices,
    ...(taskUser !== undefined ? { taskUser } : {}),
  };
}

function readSeedSp(ctx: TestbedContext, prefix: string, raw: Table): DeviceConfig | undefined {
  const { p } = ctx;
  const spType = p.string(raw, prefix, 'sp_type', { nonEmpty: true });
  const runner = p.string(raw, prefix, 'sp_runner_path', { nonEmpty: true });
  const runnerConfig = p.string(raw, prefix, 'sp_runner_config', { nonEmpty: true });
  if (spType === undefined) {
    if (runner !== undefined || runnerConfig !== undefined) {
      p.add(
        join(prefix, 'sp_type'),
        'missing: sp_runner_path and sp_runner_config describe an SP device, which needs its sp_type',
        'add sp_type = "grapefruit" (or gimlet, …)',
      );
    }
    return undefined;
  }
  return {
    name: 'sp',
    driver: 'command',
    hardware: spType,
    attributes: [],
    options: {
      // The seed's defaults when the keys are left out.
      path: expandHome(runner ?? 'sp-runner'),
      config: resolveConfigPath(ctx.configFile, runnerConfig ?? '~/Oxide/ci/config.toml'),
    },
  };
}

function readDevice(ctx: TestbedContext, prefix: string, name: string, raw: unknown): DeviceConfig | undefined {
  const { p } = ctx;
  if (!isTable(raw)) {
    p.add(prefix, 'must be a table', `write [${prefix}] with driver, hardware, address…`);
    return undefined;
  }
  p.unknownKeys(raw, prefix, DEVICE_KEYS);
  const driver = p.string(raw, prefix, 'driver', { required: true });
  if (driver !== undefined && !DEVICE_DRIVERS.includes(driver as DeviceDriver)) {
    const guess = didYouMean(driver, DEVICE_DRIVERS);
    p.add(
      join(prefix, 'driver'),
      `unknown driver "${driver}"`,
      guess ? `did you mean "${guess}"?` : `use one of: ${DEVICE_DRIVERS.join(', ')}`,
    );
  }
  const hardware = p.string(raw, prefix, 'hardware');
  const software = p.string(raw, prefix, 'software');
  const address = p.string(raw, prefix, 'address', { nonEmpty: true });
  const attributes = p.stringArray(raw, prefix, 'attributes') ?? [];
  const options = p.table(raw, prefix, 'options') ?? {};
  p.table(raw, prefix, 'sim'); // read only by `mvm sim lab`; here it only has to be a table
  const pools = readPools(p, prefix, raw.pools);
  const settings = readSettings(p, prefix, p.table(raw, prefix, 'settings'));
  const expectedHashrateGhs = p.number(raw, prefix, 'expected_hashrate_ghs', 0.001, 1e9);
  const maxTemperature = p.number(raw, prefix, 'max_temperature', 1, 150);

  if (address !== undefined && driver !== undefined) checkAddress(p, join(prefix, 'address'), driver, address);
  if (address === undefined && (driver === 'axeos' || driver === 'cgminer' || driver === 'nmminer')) {
    p.add(
      join(prefix, 'address'),
      `missing: a ${driver} device needs the address it answers on`,
      exampleAddress(driver),
    );
  }
  if (driver === 'command' && typeof options.path !== 'string' && !Array.isArray(options.argv)) {
    p.add(
      join(prefix, 'options'),
      'a command device needs options.path (the program) or options.argv',
      'write options = { path = "sp-runner", config = "~/ci/config.toml" }',
    );
  }
  if (address !== undefined) {
    const key = address.trim().toLowerCase().replace(/\/+$/, '');
    const first = ctx.addresses.get(key);
    if (first !== undefined) {
      p.add(
        join(prefix, 'address'),
        `"${address}" is also the address of ${first}`,
        'one device can be in one testbed only: remove or correct one of them',
      );
    } else ctx.addresses.set(key, prefix);
  }
  if (driver === undefined || !DEVICE_DRIVERS.includes(driver as DeviceDriver)) return undefined;
  return {
    name,
    driver: driver as DeviceDriver,
    ...(hardware !== undefined ? { hardware } : {}),
    ...(software !== undefined ? { software } : {}),
    ...(address !== undefined ? { address } : {}),
    attributes,
    options,
    ...(pools !== undefined ? { pools } : {}),
    ...(settings !== undefined ? { settings } : {}),
    ...(expectedHashrateGhs !== undefined ? { expectedHashrateGhs } : {}),
    ...(maxTemperature !== undefined ? { maxTemperature } : {}),
  };
}

/** `pools = [{ url = "stratum+tcp://host:port", user = "…", password = "x" }]`: the baseline pools. */
function readPools(p: Problems, prefix: string, raw: unknown): PoolConfig[] | undefined {
  if (raw === undefined) return undefined;
  const key = join(prefix, 'pools');
  if (!Array.isArray(raw)) {
    p.add(
      key,
      'must be an array of tables',
      'write pools = [{ url = "stratum+tcp://pool.example:3333", user = "lab.gamma" }]',
    );
    return undefined;
  }
  const out: PoolConfig[] = [];
  raw.forEach((entry, i) => {
    const k = `${key}[${i}]`;
    if (!isTable(entry))
      return p.add(
        k,
        'must be a table with url and user',
        'write { url = "stratum+tcp://pool.example:3333", user = "lab.gamma" }',
      );
    p.unknownKeys(entry, k, POOL_KEYS);
    const url = p.string(entry, k, 'url', { required: true, nonEmpty: true });
    const user = p.string(entry, k, 'user', { required: true, nonEmpty: true });
    const password = p.string(entry, k, 'password');
    if (url !== undefined && !/^stratum(\+tcp|\+ssl|2\+tcp)?:\/\/[^\s/:]+(:\d{1,5})?\/?$/.test(url)) {
      p.add(join(k, 'url'), `"${url}" is not a stratum URL`, 'write url = "stratum+tcp://host:port"');
    }
    if (url !== undefined && user !== undefined)
      out.push({ url, user, ...(password !== undefined ? { password } : {}) });
  });
  return out;
}

/** `settings = { mode = "standard" }` or `{ frequency = 525, voltage = 1150, fan = 100 }`: baseline settings. */
function readSettings(p: Problems, prefix: string, raw: Table | undefined): DeviceSettings | undefined {
  if (raw === undefined) return undefined;
  const k = join(prefix, 'settings');
  p.unknownKeys(raw, k, SETTINGS_KEYS);
  const mode = p.string(raw, k, 'mode');
  // the runner's mode names (Bitaxe eco|standard|turbo|oc, Avalon low|med|high, and their aliases)
  if (mode !== undefined && !isModeName(mode)) {
    const guess = didYouMean(mode, MODE_NAMES);
    p.add(
      join(k, 'mode'),
      `unknown mode "${mode}"`,
      `${guess ? `did you mean "${guess}"? ` : ''}use one of: ${MODE_NAMES.join(', ')}`,
    );
  }
  const frequency = p.integer(raw, k, 'frequency', 1, 2000);
  const voltage = p.integer(raw, k, 'voltage', 100, 2000);
  const fan = p.integer(raw, k, 'fan', 0, 100);
  return {
    ...(mode !== undefined && isModeName(mode) ? { mode: mode.trim().toLowerCase() } : {}),
    ...(frequency !== undefined ? { frequency } : {}),
    ...(voltage !== undefined ? { voltage } : {}),
    ...(fan !== undefined ? { fan } : {}),
  };
}

function exampleAddress(driver: string): string {
  switch (driver) {
    case 'axeos':
      return 'write address = "http://192.168.1.50:80"';
    case 'cgminer':
      return 'write address = "192.168.1.51:4028"';
    default:
      return 'write address = "192.168.1.52" (or "host:port")';
  }
}

export function checkAddress(p: Problems, key: string, driver: string, address: string): void {
  if (driver === 'axeos') {
    let ok = false;
    try {
      const u = new URL(address);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok) p.add(key, `"${address}" is not an http://host:port URL`, exampleAddress(driver));
  } else if (driver === 'cgminer') {
    if (!/^[^\s:/]+:\d{1,5}$/.test(address)) p.add(key, `"${address}" is not host:port`, exampleAddress(driver));
  } else if (driver === 'nmminer') {
    if (!/^[^\s:/]+(:\d{1,5})?$/.test(address))
      p.add(key, `"${address}" is not a host or host:port`, exampleAddress(driver));
  }
}

function readPlacement(ctx: TestbedContext, testbedPrefix: string, raw: unknown): AgentPlacement {
  const { p } = ctx;
  const prefix = join(testbedPrefix, 'agent');
  if (raw === undefined) return { mode: 'local' };
  if (!isTable(raw)) {
    p.add(prefix, 'must be a table', 'write agent = { mode = "local" }');
    return { mode: 'local' };
  }
  const mode = p.string(raw, prefix, 'mode') ?? 'local';
  if (mode === 'local') {
    p.unknownKeys(raw, prefix, LOCAL_KEYS);
    return { mode: 'local' };
  }
  if (mode !== 'ssh') {
    p.add(
      join(prefix, 'mode'),
      `unknown agent mode "${mode}"`,
      'use "local" (agent on this machine) or "ssh" (agent on the testbed host)',
    );
    return { mode: 'local' };
  }
  p.unknownKeys(raw, prefix, SSH_KEYS);
  const host = p.string(raw, prefix, 'host', { required: true, nonEmpty: true }) ?? '';
  const port = p.integer(raw, prefix, 'port', 1, 65535) ?? 22;
  const user = p.string(raw, prefix, 'user');
  const identity = p.string(raw, prefix, 'identity_file');
  const knownHosts = p.string(raw, prefix, 'known_hosts');
  const hostKey = p.string(raw, prefix, 'host_key', { nonEmpty: true });
  if (hostKey !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(hostKey)) {
    p.add(
      join(prefix, 'host_key'),
      `"${hostKey}" is not a SHA256 host key fingerprint`,
      'copy it from `ssh-keygen -l -E sha256 -f /etc/ssh/ssh_host_ed25519_key.pub` run on the host: host_key = "SHA256:…"',
    );
  }
  if (hostKey !== undefined && knownHosts !== undefined)
    p.add(
      join(prefix, 'host_key'),
      'both host_key and known_hosts are set',
      'pin the key with host_key, or list it in known_hosts, not both',
    );
  const remoteWorkdir = p.string(raw, prefix, 'remote_workdir');
  const remoteCommand = p.stringArray(raw, prefix, 'remote_command', { nonEmpty: true });
  const lockDir = p.string(raw, prefix, 'lock_dir', { nonEmpty: true });
  if (lockDir !== undefined && !lockDir.startsWith('/'))
    p.add(
      join(prefix, 'lock_dir'),
      `"${lockDir}" is not an absolute path`,
      'give the lock directory on the host as an absolute path, e.g. lock_dir = "/tmp/mvm-testbed-locks"',
    );
  const identityFile =
    identity === undefined
      ? undefined
      : readableFile(ctx, join(prefix, 'identity_file'), identity, 'the SSH private key');
  const knownHostsFile =
    knownHosts === undefined
      ? undefined
      : readableFile(ctx, join(prefix, 'known_hosts'), knownHosts, 'the known_hosts file');
  return {
    mode: 'ssh',
    host,
    port,
    ...(user !== undefined ? { user } : {}),
    ...(identityFile !== undefined ? { identityFile } : {}),
    ...(knownHostsFile !== undefined ? { knownHosts: knownHostsFile } : {}),
    ...(hostKey !== undefined ? { hostKey } : {}),
    ...(remoteWorkdir !== undefined ? { remoteWorkdir } : {}),
    ...(remoteCommand !== undefined ? { remoteCommand } : {}),
    ...(lockDir !== undefined ? { lockDir } : {}),
  };
}

/**
 * A task user must be a plain user name; on this host (local agents) it must exist, not be root
 * nor the factory's own user, and the factory must be root to switch to it.
 */
export function checkTaskUser(p: Problems, key: string, name: string, local: boolean, where = ''): void {
  if (!USER_NAME.test(name)) {
    p.add(
      key,
      `"${name}" is not a user name${where}`,
      'write the name of an unprivileged user, e.g. task_user = "mvm-task"',
    );
    return;
  }
  if (!local) return; // an SSH host's users are checked by its agent, which fails the job with the reason
  const u = lookupUser(name);
  const me = process.getuid?.();
  if (!u)
    p.add(
      key,
      `the user "${name}" does not exist on this host${where}`,
      `create it: useradd --system --no-create-home --shell /usr/sbin/nologin ${name}`,
    );
  else if (u.uid === 0)
    p.add(key, `"${name}" is root${where}: tasks would reach everything`, 'name an unprivileged user of its own');
  else if (u.uid === me)
    p.add(
      key,
      `"${name}" is the factory's own user${where}: tasks could read the agents' tokens`,
      'name a user of its own',
    );
  else if (me !== 0)
    p.add(
      key,
      `needs the factory to run as root to start tasks as "${name}"${where} (it runs as uid ${me})`,
      'run the factory as root (doc/lab-host.md, the trust model), or leave task_user out',
    );
}

/** Resolves a path key and checks the file can be read; records a problem when it cannot. */
export function readableFile(
  ctx: { p: Problems; configFile: string },
  key: string,
  value: string,
  what: string,
): string {
  const path = resolveConfigPath(ctx.configFile, value);
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    ctx.p.add(
      key,
      `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
      'check the path (relative paths are relative to the config file, ~ is your home) and its permissions',
    );
  }
  return path;
}

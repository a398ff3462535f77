// Normalising `[testbed.NAME]` tables — targets, devices, agent placement, and the seed's SP keys
// (sp_type, sp_runner_path, sp_runner_config), which stand for one `command` device — after the
// schema (shared/contracts/factory-config.ts) judged their shape, and the rules between keys:
// targets defined, addresses that fit their driver and are not listed twice, task users.
import { isModeName, MODE_NAMES } from '../../runner/drivers/modes.js';
import { accessSync, constants } from 'node:fs';
import { FACTORY_CONFIG } from '../../shared/contracts/judged/factory-config.js';
import { judge, type JudgedSchema } from '../../shared/contracts/judge.js';
import { isUlid } from '../../shared/ids.js';
import { lookupUser, USER_NAME } from '../../shared/passwd.js';
import { didYouMean, join, Problems, type Table } from './problems.js';
import { expandHome, resolveConfigPath } from './paths.js';
import type { AgentPlacement, DeviceConfig, DeviceDriver, DeviceSettings, PoolConfig, TestbedConfig } from './types.js';

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

/** The schema of one `[testbed.NAME]` table: the entries of the config's `testbed` record. */
const TESTBED = Object.values(
  (FACTORY_CONFIG.properties as { testbed: { patternProperties: Record<string, JudgedSchema> } }).testbed
    .patternProperties,
)[0];

/** Judges one `[testbed.NAME]` table by the schema, then normalises it (for readers of single tables). */
export function readTestbed(ctx: TestbedContext, name: string, raw: unknown): TestbedConfig | undefined {
  const verdict = judge<Table>(TESTBED, raw, { at: join('testbed', name) });
  for (const q of verdict.problems) ctx.p.add(q.key, q.message, q.hint);
  return verdict.value === undefined ? undefined : normaliseTestbed(ctx, name, verdict.value);
}

/** A testbed table the schema judged (what was wrong already pruned) → its config, checked by the rules. */
export function normaliseTestbed(ctx: TestbedContext, name: string, raw: Table): TestbedConfig {
  const { p } = ctx;
  const prefix = join('testbed', name);
  const targets = (raw.targets as string[] | undefined) ?? [];
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
  const baseline = raw.baseline as string | undefined;
  const description = raw.description as string | undefined;
  const agent = placement(ctx, prefix, raw.agent as Table | undefined);
  const ownTaskUser = raw.task_user as string | undefined;
  const taskUser = ownTaskUser ?? ctx.taskUser;
  if (ownTaskUser !== undefined) checkTaskUser(p, join(prefix, 'task_user'), ownTaskUser, agent.mode === 'local');
  else if (taskUser !== undefined && agent.mode === 'local')
    checkTaskUser(p, 'factory.task_user', taskUser, true, ` (for ${prefix})`);

  const devices: DeviceConfig[] = [];
  for (const [dname, d] of Object.entries((raw.devices ?? {}) as Record<string, Table>)) {
    const device = normaliseDevice(ctx, join(join(prefix, 'devices'), dname), dname, d);
    if (device) devices.push(device);
  }
  const sp = seedSp(ctx, prefix, raw);
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
    enabled: (raw.enabled as boolean | undefined) ?? true,
    ...(baseline !== undefined ? { baseline } : {}),
    ...(description !== undefined ? { description } : {}),
    agent,
    devices,
    ...(taskUser !== undefined ? { taskUser } : {}),
  };
}

function seedSp(ctx: TestbedContext, prefix: string, raw: Table): DeviceConfig | undefined {
  const spType = raw.sp_type as string | undefined;
  const runner = raw.sp_runner_path as string | undefined;
  const runnerConfig = raw.sp_runner_config as string | undefined;
  if (spType === undefined) {
    if (runner !== undefined || runnerConfig !== undefined) {
      ctx.p.add(
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
      // sp-runner's usual defaults when the keys are left out (the SP-test factory's config format).
      path: expandHome(runner ?? 'sp-runner'),
      config: resolveConfigPath(ctx.configFile, runnerConfig ?? '~/Oxide/ci/config.toml'),
    },
  };
}

function normaliseDevice(ctx: TestbedContext, prefix: string, name: string, raw: Table): DeviceConfig | undefined {
  const { p } = ctx;
  const driver = raw.driver as DeviceDriver | undefined;
  const address = raw.address as string | undefined;
  const options = (raw.options ?? {}) as Record<string, unknown>;
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
  const settings =
    raw.settings === undefined ? undefined : baselineSettings(p, join(prefix, 'settings'), raw.settings as Table);
  if (driver === undefined) return undefined;
  const hardware = raw.hardware as string | undefined;
  const software = raw.software as string | undefined;
  const pools = raw.pools as PoolConfig[] | undefined;
  const expectedHashrateGhs = raw.expected_hashrate_ghs as number | undefined;
  const maxTemperature = raw.max_temperature as number | undefined;
  return {
    name,
    driver,
    ...(hardware !== undefined ? { hardware } : {}),
    ...(software !== undefined ? { software } : {}),
    ...(address !== undefined ? { address } : {}),
    attributes: (raw.attributes as string[] | undefined) ?? [],
    options,
    ...(pools !== undefined ? { pools: pools.filter((x) => x?.url !== undefined && x.user !== undefined) } : {}),
    ...(settings !== undefined ? { settings } : {}),
    ...(expectedHashrateGhs !== undefined ? { expectedHashrateGhs } : {}),
    ...(maxTemperature !== undefined ? { maxTemperature } : {}),
  };
}

/** Baseline settings: the mode must be one of the runner's mode names (Bitaxe eco|standard|turbo|oc, Avalon low|med|high, aliases). */
function baselineSettings(p: Problems, k: string, raw: Table): DeviceSettings {
  const mode = raw.mode as string | undefined;
  if (mode !== undefined && !isModeName(mode)) {
    const guess = didYouMean(mode, MODE_NAMES);
    p.add(
      join(k, 'mode'),
      `unknown mode "${mode}"`,
      `${guess ? `did you mean "${guess}"? ` : ''}use one of: ${MODE_NAMES.join(', ')}`,
    );
  }
  const { frequency, voltage, fan } = raw as { frequency?: number; voltage?: number; fan?: number };
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

function placement(ctx: TestbedContext, testbedPrefix: string, raw: Table | undefined): AgentPlacement {
  if (raw?.mode !== 'ssh') return { mode: 'local' };
  const { p } = ctx;
  const prefix = join(testbedPrefix, 'agent');
  const a = raw as {
    host?: string;
    port?: number;
    user?: string;
    identity_file?: string;
    known_hosts?: string;
    host_key?: string;
    remote_workdir?: string;
    remote_command?: string[];
    lock_dir?: string;
  };
  if (a.host_key !== undefined && a.known_hosts !== undefined)
    p.add(
      join(prefix, 'host_key'),
      'both host_key and known_hosts are set',
      'pin the key with host_key, or list it in known_hosts, not both',
    );
  const identityFile =
    a.identity_file === undefined
      ? undefined
      : readableFile(ctx, join(prefix, 'identity_file'), a.identity_file, 'the SSH private key');
  const knownHosts =
    a.known_hosts === undefined
      ? undefined
      : readableFile(ctx, join(prefix, 'known_hosts'), a.known_hosts, 'the known_hosts file');
  return {
    mode: 'ssh',
    host: a.host ?? '',
    port: a.port ?? 22,
    ...(a.user !== undefined ? { user: a.user } : {}),
    ...(identityFile !== undefined ? { identityFile } : {}),
    ...(knownHosts !== undefined ? { knownHosts } : {}),
    ...(a.host_key !== undefined ? { hostKey: a.host_key } : {}),
    ...(a.remote_workdir !== undefined ? { remoteWorkdir: a.remote_workdir } : {}),
    ...(a.remote_command !== undefined ? { remoteCommand: a.remote_command } : {}),
    ...(a.lock_dir !== undefined ? { lockDir: a.lock_dir } : {}),
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

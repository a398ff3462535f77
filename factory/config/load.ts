// Loading the factory configuration: parse the TOML, check every key (collecting every problem),
// and normalise into a FactoryConfig. Any problem → ConfigError listing all of them.
import TOML from '@iarna/toml';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, MvmError, type ConfigProblem } from '../../shared/errors.js';
import { readSmallFile } from '../../shared/small-file.js';
import { isUlid } from '../../shared/ids.js';
import { AGENT_BUNDLE, MVM_BIN, projectPath } from '../../shared/paths.js';
import { isTable, join, Problems, type Table } from './problems.js';
import { resolveConfigPath } from './paths.js';
import { readApi, readHealth } from './sections.js';
import { readableFile, readTestbed, type TestbedContext } from './testbeds.js';
import type { FactoryConfig, TargetConfig, TestbedConfig } from './types.js';

// [fleet], [lab] and [miner.NAME] belong to `mvm fleet` (fleet/config), which can read the same file.
export const TOP_KEYS = [
  'general',
  'factory',
  'health',
  'api',
  'target',
  'testbed',
  'fleet',
  'lab',
  'jobs',
  'miner',
  'energy',
  'mqtt',
] as const;
export const GENERAL_KEYS = ['baseurl', 'admin_token', 'admin_token_file'] as const;
export const FACTORY_KEYS = [
  'token',
  'token_file',
  'poll_interval',
  'lease_wait',
  'drain_timeout',
  'agent_start_timeout',
  'agent_online_timeout',
  'agent_start_attempts',
  'instance_deadline',
  'stop_grace',
  'workdir',
  'keep_job_files',
  'agent_command',
  'runner_command',
  'firmware_dir',
  'quarantine_unhealthy',
  'task_user',
] as const;
export const TARGET_KEYS = ['id', 'description'] as const;

/** Defaults, in ms. */
export const DEFAULTS = {
  pollIntervalMs: 7_000,
  leaseWaitMs: 5_000,
  drainTimeoutMs: 5 * 60_000,
  agentStartTimeoutMs: 30_000,
  agentOnlineTimeoutMs: 5 * 60_000,
  /** Instances a job may get whose agent did not start or come online; then the job fails. */
  agentStartAttempts: 2,
  instanceDeadlineMs: 6 * 3_600_000,
  stopGraceMs: 10_000,
};

export interface LoadOptions {
  /** Environment for MVM_FACTORY_TOKEN / MVM_ADMIN_TOKEN; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The bundled agent (agent/build.mjs), when it was built after the compiled agent it comes from; an
 * older or missing bundle (a checkout compiled with tsc alone) means `mvm agent run`, the same agent
 * from the CLI, which only starts slower.
 */
export function defaultAgentCommand(
  bundle = AGENT_BUNDLE,
  compiled = projectPath('dist', 'agent', 'main.js'),
): string[] {
  try {
    if (statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs) return [process.execPath, bundle];
  } catch {
    /* no bundle (or no build at all): the CLI's agent */
  }
  return [process.execPath, MVM_BIN, 'agent', 'run'];
}

export function defaultRunnerCommand(): string[] {
  return [process.execPath, MVM_BIN, 'runner'];
}

/** Reads, checks and normalises a factory config file. Throws ConfigError with every problem. */
export function loadConfig(file: string, opts: LoadOptions = {}): FactoryConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readSmallFile(path, 'the config file');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([
      {
        file: path,
        key: '(file)',
        message: `cannot read the config file: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
        hint:
          err instanceof MvmError && err.hint
            ? err.hint
            : 'pass the path of the factory config with -f FILE (see config.example.toml)',
      },
    ]);
  }
  return parseConfig(text, path, opts);
}

export function parseConfig(text: string, file: string, opts: LoadOptions = {}): FactoryConfig {
  let raw: Table;
  try {
    raw = TOML.parse(text) as Table;
  } catch (err) {
    const e = err as Error & { line?: number; col?: number };
    const where = e.line !== undefined ? `line ${e.line + 1}, column ${(e.col ?? 0) + 1}` : '(file)';
    throw new ConfigError([
      {
        file,
        key: where,
        message: `not valid TOML: ${e.message.split('\n')[0]}`,
        hint: 'fix the syntax at the place shown',
      },
    ]);
  }
  const p = new Problems(file);
  const config = normalise(raw, file, p, opts.env ?? process.env);
  if (p.list.length > 0 || config === undefined) throw new ConfigError(p.list);
  if (p.warnings.length > 0)
    config.warnings = p.warnings.map((w) => `${w.file}: ${w.key}: ${w.message}${w.hint ? ` (${w.hint})` : ''}`);
  return config;
}

function normalise(raw: Table, file: string, p: Problems, env: NodeJS.ProcessEnv): FactoryConfig | undefined {
  p.unknownKeys(raw, '', TOP_KEYS);
  const general = p.table(raw, '', 'general');
  const factory = p.table(raw, '', 'factory') ?? {};
  if (general === undefined && raw.general === undefined)
    p.add('general', 'missing', 'add [general] with baseurl = "http://host:port" of the job server');

  // [general]
  const g = general ?? {};
  p.unknownKeys(g, 'general', GENERAL_KEYS);
  let baseUrl = '';
  const bu = p.string(g, 'general', 'baseurl', { required: general !== undefined, nonEmpty: true });
  if (bu !== undefined) {
    try {
      const u = new URL(bu);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      baseUrl = bu.replace(/\/+$/, '');
    } catch {
      p.add('general.baseurl', `"${bu}" is not an http(s) URL`, 'write baseurl = "http://127.0.0.1:9300"');
    }
  }
  const adminToken = secret(p, file, g, 'general', 'admin_token', 'admin_token_file', env.MVM_ADMIN_TOKEN, false);

  // [factory]
  p.unknownKeys(factory, 'factory', FACTORY_KEYS);
  const token = secret(p, file, factory, 'factory', 'token', 'token_file', env.MVM_FACTORY_TOKEN, true) ?? '';
  const d = (key: string, fallback: number, min = 0) => p.duration(factory, 'factory', key, fallback, { min });
  const pollIntervalMs = d('poll_interval', DEFAULTS.pollIntervalMs, 10);
  const leaseWaitMs = d('lease_wait', DEFAULTS.leaseWaitMs);
  const drainTimeoutMs = d('drain_timeout', DEFAULTS.drainTimeoutMs);
  const agentStartTimeoutMs = d('agent_start_timeout', DEFAULTS.agentStartTimeoutMs, 100);
  const agentOnlineTimeoutMs = d('agent_online_timeout', DEFAULTS.agentOnlineTimeoutMs, 100);
  const agentStartAttempts =
    p.integer(factory, 'factory', 'agent_start_attempts', 1, 100) ?? DEFAULTS.agentStartAttempts;
  const instanceDeadlineMs = d('instance_deadline', DEFAULTS.instanceDeadlineMs, 1000);
  const stopGraceMs = d('stop_grace', DEFAULTS.stopGraceMs);
  const wd = p.string(factory, 'factory', 'workdir', { nonEmpty: true });
  const keepJobFiles = p.boolean(factory, 'factory', 'keep_job_files') ?? false;
  const agentCommand = p.stringArray(factory, 'factory', 'agent_command', { nonEmpty: true }) ?? defaultAgentCommand();
  const runnerCommand =
    p.stringArray(factory, 'factory', 'runner_command', { nonEmpty: true }) ?? defaultRunnerCommand();
  const fw = p.string(factory, 'factory', 'firmware_dir', { nonEmpty: true });
  const firmwareDir = fw === undefined ? undefined : resolveConfigPath(file, fw);
  const quarantineUnhealthy = p.boolean(factory, 'factory', 'quarantine_unhealthy') ?? true;

  // [health], [api]
  const health = readHealth(p, p.table(raw, '', 'health'));
  const apiTable = p.table(raw, '', 'api');
  const apiAdminToken = secret(
    p,
    file,
    apiTable ?? {},
    'api',
    'admin_token',
    'admin_token_file',
    env.MVM_FACTORY_API_TOKEN,
    false,
  );
  const api = readApi(p, apiTable, apiAdminToken);

  // [target.NAME]
  const targets: TargetConfig[] = [];
  const targetTable = p.table(raw, '', 'target') ?? {};
  for (const [name, t] of Object.entries(targetTable)) {
    const prefix = join('target', name);
    if (!isTable(t)) {
      p.add(prefix, 'must be a table', `write [${prefix}]`);
      continue;
    }
    p.unknownKeys(t, prefix, TARGET_KEYS);
    p.string(t, prefix, 'description');
    const id = p.string(t, prefix, 'id');
    if (id !== undefined && !isUlid(id))
      p.add(
        join(prefix, 'id'),
        `"${id}" is not a target id (a ULID)`,
        'copy the id from `mvm admin target list`, or leave id out to resolve the name at start-up',
      );
    const known = id ?? (isUlid(name) ? name : undefined);
    targets.push({ name, ...(known !== undefined ? { id: known } : {}) });
  }

  // [testbed.NAME]
  const taskUser = p.string(factory, 'factory', 'task_user', { nonEmpty: true });
  const ctx: TestbedContext = {
    p,
    configFile: file,
    targetNames: new Set(Object.keys(targetTable)),
    addresses: new Map(),
    ...(taskUser !== undefined ? { taskUser } : {}),
  };
  const testbeds: TestbedConfig[] = [];
  for (const [name, t] of Object.entries(p.table(raw, '', 'testbed') ?? {})) {
    const tb = readTestbed(ctx, name, t);
    if (tb) testbeds.push(tb);
  }
  if (raw.testbed === undefined)
    p.add('testbed', 'no testbeds are defined', 'add at least one [testbed.NAME] with targets = [...]');

  return {
    file,
    baseUrl,
    token,
    ...(adminToken !== undefined ? { adminToken } : {}),
    pollIntervalMs,
    leaseWaitMs,
    drainTimeoutMs,
    agentStartTimeoutMs,
    agentOnlineTimeoutMs,
    agentStartAttempts,
    instanceDeadlineMs,
    stopGraceMs,
    ...(wd !== undefined ? { workdir: resolveConfigPath(file, wd) } : {}),
    keepJobFiles,
    agentCommand,
    runnerCommand,
    ...(firmwareDir !== undefined ? { firmwareDir } : {}),
    quarantineUnhealthy,
    health,
    api,
    targets,
    testbeds,
  };
}

const ENV_OF: Record<string, string> = {
  factory: 'MVM_FACTORY_TOKEN',
  general: 'MVM_ADMIN_TOKEN',
  api: 'MVM_FACTORY_API_TOKEN',
};

/** A secret given inline, in a file, or in the environment (in that order); exactly one way. */
function secret(
  p: Problems,
  file: string,
  table: Table,
  prefix: string,
  key: string,
  fileKey: string,
  fromEnv: string | undefined,
  required: boolean,
): string | undefined {
  const inline = p.string(table, prefix, key, { nonEmpty: true });
  const path = p.string(table, prefix, fileKey, { nonEmpty: true });
  if (inline !== undefined && path !== undefined) {
    p.add(join(prefix, fileKey), `both ${key} and ${fileKey} are set`, `keep one of them`);
    return inline;
  }
  if (inline !== undefined) return inline;
  if (path !== undefined) {
    const abs = readableFile({ p, configFile: file }, join(prefix, fileKey), path, 'the token file');
    try {
      if (statSync(abs).mode & 0o004)
        p.warn(
          join(prefix, fileKey),
          `the token file ${abs} can be read by every user on this machine`,
          `run: chmod 600 ${abs} (or 640 with the factory's group)`,
        );
      const value = readSmallFile(abs, 'the token file', 64 * 1024).trim();
      if (value === '') p.add(join(prefix, fileKey), `the token file ${abs} is empty`, 'write the token into it');
      return value;
    } catch {
      return undefined; // already reported as unreadable
    }
  }
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
  if (required) {
    p.add(
      join(prefix, key),
      'missing',
      `set ${key} = "…", ${fileKey} = "path", or the environment variable ${ENV_OF[prefix] ?? 'MVM_ADMIN_TOKEN'}`,
    );
  }
  return undefined;
}

export type { ConfigProblem };

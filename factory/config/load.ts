// Loading the factory configuration: parse the TOML, judge every key's shape by the schema
// (shared/contracts/factory-config.ts), normalise into a FactoryConfig and run the cross-key rules
// over it, collecting every problem. Any problem → ConfigError listing all of them.
import TOML from '@iarna/toml';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, MvmError, type ConfigProblem } from '../../shared/errors.js';
import { readSmallFile } from '../../shared/small-file.js';
import { isUlid } from '../../shared/ids.js';
import { AGENT_BUNDLE, MVM_BIN, projectPath } from '../../shared/paths.js';
import { FACTORY_CONFIG } from '../../shared/contracts/judged/factory-config.js';
import { judge } from '../../shared/contracts/judge.js';
import { join, msOf, Problems, type Table } from './problems.js';
import { resolveConfigPath } from './paths.js';
import { readApi, readHealth } from './sections.js';
import { normaliseTestbed, readableFile, type TestbedContext } from './testbeds.js';
import type { FactoryConfig, TargetConfig, TestbedConfig } from './types.js';

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
  if (p.list.length > 0) throw new ConfigError(p.list);
  if (p.warnings.length > 0)
    config.warnings = p.warnings.map((w) => `${w.file}: ${w.key}: ${w.message}${w.hint ? ` (${w.hint})` : ''}`);
  return config;
}

function normalise(raw: Table, file: string, p: Problems, env: NodeJS.ProcessEnv): FactoryConfig {
  const judged = judge<Table>(FACTORY_CONFIG, raw);
  for (const q of judged.problems) p.add(q.key, q.message, q.hint);
  const top = judged.value ?? {};
  const section = (key: string) => (top[key] ?? {}) as Table;

  // [general]
  const g = section('general');
  let baseUrl = '';
  const bu = g.baseurl as string | undefined;
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
  const f = section('factory');
  const token = secret(p, file, f, 'factory', 'token', 'token_file', env.MVM_FACTORY_TOKEN, true) ?? '';
  const wd = f.workdir as string | undefined;
  const fw = f.firmware_dir as string | undefined;

  // [health], [api]
  const health = readHealth(p, section('health'));
  const a = section('api');
  const apiAdminToken = secret(p, file, a, 'api', 'admin_token', 'admin_token_file', env.MVM_FACTORY_API_TOKEN, false);
  const api = readApi(p, a, apiAdminToken);

  // [target.NAME]
  const targets: TargetConfig[] = [];
  // Every name written counts as defined, even a table with mistakes (reported on its own).
  const targetNames = Object.keys(raw.target !== null && typeof raw.target === 'object' ? raw.target : {});
  for (const [name, t] of Object.entries(section('target') as Record<string, Table>)) {
    const id = t.id as string | undefined;
    if (id !== undefined && !isUlid(id))
      p.add(
        join(join('target', name), 'id'),
        `"${id}" is not a target id (a ULID)`,
        'copy the id from `mvm admin target list`, or leave id out to resolve the name at start-up',
      );
    const known = id ?? (isUlid(name) ? name : undefined);
    targets.push({ name, ...(known !== undefined ? { id: known } : {}) });
  }

  // [testbed.NAME]
  const taskUser = f.task_user as string | undefined;
  const ctx: TestbedContext = {
    p,
    configFile: file,
    targetNames: new Set(targetNames),
    addresses: new Map(),
    ...(taskUser !== undefined ? { taskUser } : {}),
  };
  const testbeds: TestbedConfig[] = [];
  for (const [name, t] of Object.entries(section('testbed') as Record<string, Table>)) {
    const tb = normaliseTestbed(ctx, name, t);
    if (tb) testbeds.push(tb);
  }
  if (raw.testbed === undefined)
    p.add('testbed', 'no testbeds are defined', 'add at least one [testbed.NAME] with targets = [...]');

  return {
    file,
    baseUrl,
    token,
    ...(adminToken !== undefined ? { adminToken } : {}),
    pollIntervalMs: msOf(f.poll_interval, DEFAULTS.pollIntervalMs),
    leaseWaitMs: msOf(f.lease_wait, DEFAULTS.leaseWaitMs),
    drainTimeoutMs: msOf(f.drain_timeout, DEFAULTS.drainTimeoutMs),
    agentStartTimeoutMs: msOf(f.agent_start_timeout, DEFAULTS.agentStartTimeoutMs),
    agentOnlineTimeoutMs: msOf(f.agent_online_timeout, DEFAULTS.agentOnlineTimeoutMs),
    agentStartAttempts: (f.agent_start_attempts as number | undefined) ?? DEFAULTS.agentStartAttempts,
    instanceDeadlineMs: msOf(f.instance_deadline, DEFAULTS.instanceDeadlineMs),
    stopGraceMs: msOf(f.stop_grace, DEFAULTS.stopGraceMs),
    ...(wd !== undefined ? { workdir: resolveConfigPath(file, wd) } : {}),
    keepJobFiles: (f.keep_job_files as boolean | undefined) ?? false,
    agentCommand: (f.agent_command as string[] | undefined) ?? defaultAgentCommand(),
    runnerCommand: (f.runner_command as string[] | undefined) ?? defaultRunnerCommand(),
    ...(fw !== undefined ? { firmwareDir: resolveConfigPath(file, fw) } : {}),
    quarantineUnhealthy: (f.quarantine_unhealthy as boolean | undefined) ?? true,
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
  const inline = table[key] as string | undefined;
  const path = table[fileKey] as string | undefined;
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

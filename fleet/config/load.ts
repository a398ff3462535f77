// Loading the fleet configuration: a fleet-only TOML ([fleet], [lab], [miner.NAME]), a factory
// config (every testbed device with an address becomes a miner), or one file with both. The TOML
// is parsed once; the fleet reads its own sections and the factory's testbeds, and leaves the
// factory's other sections to the factory. Every problem is reported at once (ConfigError).
import TOML from '@iarna/toml';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, type ConfigProblem } from '../../shared/errors.js';
import { parseListen } from '../../shared/listen.js';
import { resolveConfigPath } from '../../factory/config/paths.js';
import { isTable, join, Problems, type Table } from '../../factory/config/problems.js';
import { readableFile } from '../../factory/config/testbeds.js';
import { parseEnergySection } from '../energy/config.js';
import { readMqttSection } from '../export/mqtt-config.js';
import { DEFAULT_LAB, LAB_NAME } from '../../shared/lab-names.js';
import { readMiner, testbedMiners } from './miners.js';
import {
  FLEET_DEFAULTS,
  type FleetConfig,
  type FleetLabConfig,
  type FleetSettings,
  type LabConfig,
  type RetentionConfig,
} from './types.js';

export const FLEET_TOP_KEYS = ['fleet', 'lab', 'jobs', 'miner', 'energy', 'mqtt'] as const;
const FACTORY_TOP_KEYS = ['general', 'factory', 'health', 'api', 'target', 'testbed'] as const;
export const FLEET_KEYS = [
  'poll_interval',
  'listen',
  'admin_token_file',
  'udp_port',
  'udp_address',
  'offline_after',
  'concurrency',
  'request_timeout',
  'retention',
  'metrics',
] as const;
export const RETENTION_KEYS = ['raw', 'minute', 'hour'] as const;
export const LAB_KEYS = ['url', 'token', 'token_file'] as const;

export interface FleetLoadOptions {
  /** Environment for MVM_FLEET_LAB_TOKEN; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The labs of a config as start-up lines say them: `lab URL`, `labs NAME URL, …` or `lab none`. */
export function labsSummary(c: FleetConfig): string {
  if (c.labs.length === 0) return 'lab none';
  if (c.labs.length === 1 && c.lab) return `lab ${c.lab.url}`;
  return `labs ${c.labs.map((l) => `${l.name} ${l.url}`).join(', ')}`;
}

/** Reads, checks and normalises a fleet (or factory) config. Throws ConfigError with every problem. */
export function loadFleetConfig(file: string, opts: FleetLoadOptions = {}): FleetConfig {
  const { config, problems } = checkFleetConfig(file, opts);
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems);
  return config;
}

/** Every problem of a config file (none: `config` is set). `mvm fleet --check` prints them. */
export function checkFleetConfig(
  file: string,
  opts: FleetLoadOptions = {},
): { config?: FleetConfig; problems: ConfigProblem[] } {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      problems: [
        {
          file: path,
          key: '(file)',
          message: `cannot read the config file: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
          hint: 'pass a fleet config ([miner.NAME] entries) or a factory config with --config FILE (see doc/fleet.md)',
        },
      ],
    };
  }
  return parseFleetConfig(text, path, opts);
}

export function parseFleetConfig(
  text: string,
  file: string,
  opts: FleetLoadOptions = {},
): { config?: FleetConfig; problems: ConfigProblem[] } {
  let raw: Table;
  try {
    raw = TOML.parse(text) as Table;
  } catch (err) {
    const e = err as Error & { line?: number; col?: number };
    const where = e.line !== undefined ? `line ${e.line + 1}, column ${(e.col ?? 0) + 1}` : '(file)';
    return {
      problems: [
        {
          file,
          key: where,
          message: `not valid TOML: ${e.message.split('\n')[0]}`,
          hint: 'fix the syntax at the place shown',
        },
      ],
    };
  }
  const p = new Problems(file);
  const config = normalise(raw, file, p, opts.env ?? process.env);
  return p.list.length > 0 ? { problems: p.list } : { config, problems: [] };
}

function normalise(raw: Table, file: string, p: Problems, env: NodeJS.ProcessEnv): FleetConfig {
  p.unknownKeys(raw, '', [...FLEET_TOP_KEYS, ...FACTORY_TOP_KEYS]);
  const isFactory = FACTORY_TOP_KEYS.some((k) => raw[k] !== undefined);
  const isFleet = FLEET_TOP_KEYS.some((k) => raw[k] !== undefined);
  if (!isFactory && !isFleet) {
    p.add(
      '(file)',
      'defines no miners and no testbeds',
      'add [miner.NAME] tables with driver and address (or pass a factory config)',
    );
  }
  const fleet = readFleet(p, file, p.table(raw, '', 'fleet') ?? {});
  const labs = readLabs(p, file, p.table(raw, '', 'lab'), env);
  const lab = labs.find((l) => l.name === DEFAULT_LAB);
  const jobs = readUpstream(p, file, p.table(raw, '', 'jobs'), env, UPSTREAMS.jobs);
  const energy = parseEnergySection(raw.energy, p);
  const mqtt = readMqttSection(p, p.table(raw, '', 'mqtt'), dirname(file));

  const miners = [];
  for (const [name, m] of Object.entries(p.table(raw, '', 'miner') ?? {})) {
    const def = readMiner(p, name, m, fleet.pollIntervalMs);
    if (def) miners.push(def);
  }
  if (isFactory) miners.push(...testbedMiners(p, file, raw));

  // One device, one miner: the same id or address twice is a mistake in the file.
  const ids = new Map<string, string>();
  const addresses = new Map<string, string>();
  for (const m of miners) {
    const where = m.source === 'testbed' ? `testbed.${m.testbed}.devices` : join('miner', m.id);
    if (ids.has(m.id)) p.add(where, `the miner id "${m.id}" is used twice`, 'rename one of them');
    ids.set(m.id, where);
    const key = `${m.driver} ${m.address.trim().toLowerCase().replace(/\/+$/, '')}`;
    const first = addresses.get(key);
    if (first !== undefined)
      p.add(join(where, 'address'), `"${m.address}" is also the address of ${first}`, 'list each device once');
    else addresses.set(key, m.id);
  }
  miners.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    file,
    kind: isFactory && isFleet ? 'both' : isFactory ? 'factory' : 'fleet',
    fleet,
    ...(lab ? { lab: { url: lab.url, token: lab.token } } : {}),
    labs,
    ...(jobs ? { jobs } : {}),
    energy,
    ...(mqtt ? { mqtt } : {}),
    miners,
  };
}

function readFleet(p: Problems, file: string, f: Table): FleetSettings {
  const prefix = 'fleet';
  const d = FLEET_DEFAULTS;
  p.unknownKeys(f, prefix, FLEET_KEYS);
  let listen: FleetSettings['listen'];
  const listenText = p.string(f, prefix, 'listen', { nonEmpty: true });
  if (listenText !== undefined) {
    try {
      listen = parseListen(listenText, 'listen');
    } catch (err) {
      p.add(join(prefix, 'listen'), (err as Error).message, 'write listen = "127.0.0.1:9320"');
    }
  }
  const tokenFile = p.string(f, prefix, 'admin_token_file', { nonEmpty: true });
  const udpAddress = p.string(f, prefix, 'udp_address', { nonEmpty: true }) ?? d.udpAddress;
  const metrics = p.string(f, prefix, 'metrics') ?? 'open';
  if (metrics !== 'open' && metrics !== 'token')
    p.add(
      join(prefix, 'metrics'),
      `"${metrics}" is not open or token`,
      'write metrics = "open" (Prometheus scrapes /metrics without a token) or "token" (any API token)',
    );
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(udpAddress))
    p.add(
      join(prefix, 'udp_address'),
      `"${udpAddress}" is not an IPv4 address`,
      'write udp_address = "0.0.0.0" (every interface)',
    );
  return {
    pollIntervalMs: p.duration(f, prefix, 'poll_interval', d.pollIntervalMs, { min: 100 }),
    ...(listen ? { listen } : {}),
    // The file is made on first start when missing (as the factory API's), so only its folder must exist.
    ...(tokenFile !== undefined ? { adminTokenFile: resolveConfigPath(file, tokenFile) } : {}),
    udpPort: p.integer(f, prefix, 'udp_port', 0, 65535) ?? d.udpPort,
    udpAddress,
    offlineAfter: p.integer(f, prefix, 'offline_after', 1, 1000) ?? d.offlineAfter,
    concurrency: p.integer(f, prefix, 'concurrency', 1, 1024) ?? d.concurrency,
    requestTimeoutMs: p.duration(f, prefix, 'request_timeout', d.requestTimeoutMs, { min: 100 }),
    retention: readRetention(p, p.table(f, prefix, 'retention') ?? {}),
    metrics: metrics === 'token' ? 'token' : 'open',
  };
}

function readRetention(p: Problems, r: Table): RetentionConfig {
  const prefix = 'fleet.retention';
  const d = FLEET_DEFAULTS.retention;
  p.unknownKeys(r, prefix, RETENTION_KEYS);
  // Retentions are ages compared with timestamps, not timers: up to 100 years.
  const max = 100 * 365 * 86_400_000;
  const rawMs = p.duration(r, prefix, 'raw', d.rawMs, { min: 60_000, max });
  const minuteMs = p.duration(r, prefix, 'minute', d.minuteMs, { min: 3_600_000, max });
  const hourMs = p.duration(r, prefix, 'hour', d.hourMs, { min: 86_400_000, max });
  if (minuteMs < rawMs)
    p.add(join(prefix, 'minute'), 'is shorter than raw', 'keep minute roll-ups at least as long as raw samples');
  if (hourMs < minuteMs)
    p.add(join(prefix, 'hour'), 'is shorter than minute', 'keep hour roll-ups at least as long as minute ones');
  return { rawMs, minuteMs, hourMs };
}

/** The services the fleet reaches: [lab] the factory API (reservations, the lab pages), [jobs] the job server (the jobs pages). */
const UPSTREAMS = {
  lab: {
    section: 'lab',
    envVar: 'MVM_FLEET_LAB_TOKEN',
    what: 'the factory API',
    example: 'http://127.0.0.1:9310',
    token: 'a factory API token that may reserve testbeds',
  },
  jobs: {
    section: 'jobs',
    envVar: 'MVM_FLEET_JOBS_TOKEN',
    what: 'the job server',
    example: 'http://127.0.0.1:9300',
    token: 'a job server user token (with the admin privilege to see every job)',
  },
} as const;

/**
 * [lab] (url, token: the lab "default") and its [lab.NAME] tables (each a factory of its own); one
 * factory listed twice is a mistake.
 */
function readLabs(p: Problems, file: string, l: Table | undefined, env: NodeJS.ProcessEnv): FleetLabConfig[] {
  if (l === undefined) return [];
  const own: Table = {};
  const named: Array<[string, Table]> = [];
  for (const [k, v] of Object.entries(l)) {
    if (isTable(v) && !(LAB_KEYS as readonly string[]).includes(k)) named.push([k, v]);
    else own[k] = v;
  }
  const labs: FleetLabConfig[] = [];
  if (Object.keys(own).length > 0 || named.length === 0) {
    const d = readUpstream(p, file, own, env, UPSTREAMS.lab);
    if (d) labs.push({ name: DEFAULT_LAB, ...d });
  }
  for (const [name, t] of named.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const prefix = join('lab', name);
    if (!LAB_NAME.test(name)) {
      p.add(prefix, `"${name}" is not a valid lab name`, 'letters, digits, "_" and "-", at most 32, no "@" or "."');
      continue;
    }
    if (name === DEFAULT_LAB && Object.keys(own).length > 0) {
      p.add(
        prefix,
        `[lab] url and [lab.${DEFAULT_LAB}] are both set`,
        `"${DEFAULT_LAB}" is the name of [lab]'s own lab: rename the table`,
      );
      continue;
    }
    const envVar = `MVM_FLEET_LAB_${name.toUpperCase().replace(/-/g, '_')}_TOKEN`;
    const u = readUpstream(p, file, t, env, { ...UPSTREAMS.lab, section: prefix, envVar });
    if (u) labs.push({ name, ...u });
  }
  const seen = new Map<string, string>();
  for (const x of labs) {
    const prefix = x.name === DEFAULT_LAB && Object.keys(own).length > 0 ? 'lab' : join('lab', x.name);
    const first = seen.get(x.url);
    if (first !== undefined)
      p.add(join(prefix, 'url'), `"${x.url}" is also the url of ${first}`, 'list each factory once');
    else seen.set(x.url, `[${prefix}]`);
  }
  return labs;
}

function readUpstream(
  p: Problems,
  file: string,
  l: Table | undefined,
  env: NodeJS.ProcessEnv,
  u: { section: string; envVar: string; what: string; example: string; token: string },
): LabConfig | undefined {
  if (l === undefined) return undefined;
  const prefix = u.section;
  p.unknownKeys(l, prefix, LAB_KEYS);
  let url = p.string(l, prefix, 'url', { required: true, nonEmpty: true });
  if (url !== undefined) {
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      url = url.replace(/\/+$/, '');
    } catch {
      p.add(join(prefix, 'url'), `"${url}" is not an http(s) URL`, `${u.what}, e.g. url = "${u.example}"`);
      url = undefined;
    }
  }
  const inline = p.string(l, prefix, 'token', { nonEmpty: true });
  const tokenFile = p.string(l, prefix, 'token_file', { nonEmpty: true });
  let token: string | undefined;
  if (inline !== undefined && tokenFile !== undefined)
    p.add(join(prefix, 'token_file'), 'both token and token_file are set', 'keep one of them');
  if (inline !== undefined) token = inline;
  else if (tokenFile !== undefined) {
    const abs = readableFile({ p, configFile: file }, join(prefix, 'token_file'), tokenFile, 'the token file');
    try {
      token = readFileSync(abs, 'utf8').trim();
      if (token === '')
        p.add(join(prefix, 'token_file'), `the token file ${abs} is empty`, `write the token for ${u.what} into it`);
    } catch {
      // reported by readableFile
    }
  } else if (env[u.envVar]?.trim()) token = env[u.envVar]!.trim();
  else
    p.add(
      join(prefix, 'token'),
      'missing',
      `set token = "…", token_file = "path", or the environment variable ${u.envVar} (${u.token})`,
    );
  return url !== undefined && token ? { url, token } : undefined;
}

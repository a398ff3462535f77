// Test definitions (JSON or YAML): `script` plus `devices[{hardware, software, attributes}]` as in
// the MVM seed, with declarative `checks`. Validation reports every problem, located by key.
import { existsSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatDuration, parseDuration } from '../../shared/duration.js';
import { ConfigError, MvmError, type ConfigProblem } from '../../shared/errors.js';
import { readSmallFile } from '../../shared/small-file.js';

export interface SpecDevice {
  /** A name the checks and the script's environment use; default "device0", "device1", …. */
  name: string;
  hardware?: string;
  software?: string;
  /** A firmware image (absolute path; relative to the definition in the file) that carries `software`. */
  image?: string;
  attributes: string[];
}

interface CheckBase {
  /** Name in the results; default derived from the type and device. */
  name: string;
  /** Spec device names this check applies to (default: every device). */
  devices: string[];
}

export type Check =
  | (CheckBase & { type: 'hashrate'; minPercent: number; windowMs: number; expectedGhs?: number })
  | (CheckBase & { type: 'temperature'; max: number; windowMs: number; sensor?: string })
  | (CheckBase & { type: 'shares_increase'; min: number; windowMs: number })
  | (CheckBase & { type: 'rejected_ratio'; max: number; windowMs: number })
  | (CheckBase & { type: 'survives_restart'; timeoutMs: number; requireHashing: boolean });

export type CheckType = Check['type'];
export const CHECK_TYPES: readonly CheckType[] = [
  'hashrate',
  'temperature',
  'shares_increase',
  'rejected_ratio',
  'survives_restart',
];

export interface TestSpec {
  file: string;
  dir: string;
  name: string;
  /** argv, or one file path run by its interpreter; undefined = checks only. */
  script?: string | string[];
  scriptTimeoutMs: number;
  env: Record<string, string>;
  devices: SpecDevice[];
  checks: Check[];
  /** Telemetry sampling interval for window checks. */
  pollMs: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function parseSpecText(text: string, file: string): unknown {
  const ext = extname(file).toLowerCase();
  try {
    return ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([
      { file, key: '(file)', message: `not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}` },
    ]);
  }
}

/**
 * How long any duration of a test definition may be. In a job: the time left before the job's
 * deadline (the factory's instance_deadline, from the testbed description); elsewhere the longest
 * instance_deadline a factory allows.
 */
export interface DurationLimit {
  ms: number;
  /** What the limit is, for the error: "…is longer than <what>". */
  what: string;
}

/** The longest instance_deadline a factory accepts (factory/config/problems.ts). */
export const MAX_TEST_DURATION_MS = 24 * 86_400_000;

export const NO_JOB_LIMIT: DurationLimit = {
  ms: MAX_TEST_DURATION_MS,
  what: '24d, the longest instance_deadline a factory allows (a job cannot hold a testbed longer)',
};

/** The limit inside a job whose instance ends at `deadline` (epoch ms). */
export function jobDeadlineLimit(deadline: number, now = Date.now()): DurationLimit {
  const left = Math.max(0, deadline - now);
  return {
    ms: left,
    what: `the ${formatDuration(left)} left before the job's deadline (${new Date(deadline).toISOString()}, the factory's instance_deadline)`,
  };
}

/** A test definition is a page or two; a larger file is a mistake that would parse for minutes. */
export const MAX_SPEC_BYTES = 1024 * 1024;

export function loadSpec(file: string, limit: DurationLimit = NO_JOB_LIMIT): TestSpec {
  let text: string;
  try {
    text = readSmallFile(file, 'the test definition', MAX_SPEC_BYTES);
  } catch (err) {
    if (err instanceof MvmError) throw err;
    throw new MvmError(
      'CONFIG_INVALID',
      `cannot read the test definition ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        hint: 'pass --spec FILE with a JSON or YAML test definition',
        cause: err,
      },
    );
  }
  return validateSpec(parseSpecText(text, file), file, limit);
}

export const SPEC_DEVICE_KEYS: readonly string[] = ['name', 'hardware', 'software', 'image', 'attributes'];
export const KNOWN_TOP = new Set(['name', 'script', 'timeout', 'env', 'devices', 'checks', 'poll']);
export const KNOWN_CHECK: Record<CheckType, string[]> = {
  hashrate: ['min_percent', 'window', 'expected_ghs'],
  temperature: ['max', 'window', 'sensor'],
  shares_increase: ['min', 'window'],
  rejected_ratio: ['max', 'window'],
  survives_restart: ['timeout', 'require_hashing'],
};

export function validateSpec(doc: unknown, file: string, limit: DurationLimit = NO_JOB_LIMIT): TestSpec {
  const problems: ConfigProblem[] = [];
  const p = (key: string, message: string, hint?: string) => problems.push({ file, key, message, hint });
  if (!isObject(doc))
    throw new ConfigError([
      { file, key: '(file)', message: 'a test definition is an object with script, devices and checks' },
    ]);

  for (const k of Object.keys(doc))
    if (!KNOWN_TOP.has(k)) p(k, 'unknown key', `known keys: ${[...KNOWN_TOP].join(', ')}`);

  // Bounded: nothing in a test may last beyond the job's deadline (`limit`), and a timeout or poll
  // interval of 0 would end or spin at once.
  const duration = (key: string, v: unknown, dflt: number, min = 0): number => {
    if (v === undefined) return dflt;
    const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
    if (ms === undefined) {
      p(key, `not a duration: ${JSON.stringify(v)}`, 'write e.g. "500ms", "30s", "5m" (a bare number is seconds)');
      return dflt;
    }
    if (ms > limit.ms) {
      p(key, `${JSON.stringify(v)} is longer than ${limit.what}`, 'shorten it (or ask for a longer instance_deadline)');
      return dflt;
    }
    if (ms < min) {
      p(
        key,
        `${JSON.stringify(v)} is too short: at least ${min} ms`,
        min === 1 ? 'give a duration above 0, e.g. "30s"' : undefined,
      );
      return dflt;
    }
    return ms;
  };

  let script: string | string[] | undefined;
  if (doc.script !== undefined) {
    if (typeof doc.script === 'string' && doc.script.trim() !== '') script = doc.script;
    else if (Array.isArray(doc.script) && doc.script.length > 0 && doc.script.every((a) => typeof a === 'string'))
      script = doc.script as string[];
    else
      p(
        'script',
        'must be a file path or a non-empty argv array of strings',
        'e.g. "basic.py" or ["python3", "basic.py", "--quick"]',
      );
  }

  const env: Record<string, string> = {};
  if (doc.env !== undefined) {
    if (!isObject(doc.env)) p('env', 'must be an object of strings');
    else
      for (const [k, v] of Object.entries(doc.env)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) p(`env.${k}`, 'not a valid environment variable name');
        else if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
          p(`env.${k}`, 'must be a string');
        else env[k] = String(v);
      }
  }

  const devices: SpecDevice[] = [];
  if (!Array.isArray(doc.devices) || doc.devices.length === 0) {
    p('devices', 'give at least one device: [{hardware, software, attributes}]');
  } else {
    const names = new Set<string>();
    doc.devices.forEach((d: unknown, i: number) => {
      const k = `devices[${i}]`;
      if (!isObject(d)) return p(k, 'must be an object with hardware, software, attributes');
      for (const key of Object.keys(d)) {
        if (!SPEC_DEVICE_KEYS.includes(key))
          p(`${k}.${key}`, 'unknown key', 'known keys: name, hardware, software, image, attributes');
      }
      const name = d.name === undefined ? `device${i}` : d.name;
      if (typeof name !== 'string' || !/^[A-Za-z0-9_-]+$/.test(name))
        p(`${k}.name`, 'must be letters, digits, "_" or "-"');
      else if (names.has(name)) p(`${k}.name`, `duplicate name ${JSON.stringify(name)}`);
      else names.add(name);
      for (const key of ['hardware', 'software'] as const) {
        if (d[key] !== undefined && typeof d[key] !== 'string' && typeof d[key] !== 'number')
          p(`${k}.${key}`, 'must be a string');
      }
      let image: string | undefined;
      if (d.image !== undefined) {
        if (typeof d.image !== 'string' || d.image === '')
          p(`${k}.image`, 'must be a file path (relative to the test definition)');
        else {
          image = resolve(dirname(resolve(file)), d.image);
          if (!existsSync(image))
            p(`${k}.image`, `no such file ${image}`, "the image is resolved relative to the test definition's folder");
          if (d.software === undefined)
            p(
              `${k}.image`,
              'give software too: the version the image carries',
              'e.g. software: v2.16.0, image: build/esp-miner.bin',
            );
        }
      }
      const attrs = d.attributes ?? [];
      if (!Array.isArray(attrs) || attrs.some((a) => typeof a !== 'string'))
        p(`${k}.attributes`, 'must be an array of strings');
      devices.push({
        name: String(name),
        hardware: d.hardware === undefined ? undefined : String(d.hardware),
        software: d.software === undefined ? undefined : String(d.software),
        ...(image !== undefined ? { image } : {}),
        attributes: Array.isArray(attrs) ? attrs.map(String) : [],
      });
    });
  }
  const deviceNames = devices.map((d) => d.name);

  const checks: Check[] = [];
  if (doc.checks !== undefined && !Array.isArray(doc.checks)) p('checks', 'must be an array');
  const rawChecks = Array.isArray(doc.checks) ? doc.checks : [];
  rawChecks.forEach((c: unknown, i: number) => {
    const k = `checks[${i}]`;
    if (!isObject(c)) return p(k, 'must be an object with a type');
    const type = c.type as CheckType;
    if (!CHECK_TYPES.includes(type))
      return p(`${k}.type`, `unknown check ${JSON.stringify(c.type)}`, `one of ${CHECK_TYPES.join(', ')}`);
    for (const key of Object.keys(c)) {
      if (!['type', 'name', 'device', 'devices', ...KNOWN_CHECK[type]].includes(key)) {
        p(
          `${k}.${key}`,
          `unknown key for a ${type} check`,
          `known: ${['name', 'device', ...KNOWN_CHECK[type]].join(', ')}`,
        );
      }
    }
    let targets = deviceNames;
    const sel = c.devices ?? c.device;
    if (sel !== undefined) {
      const list = Array.isArray(sel) ? sel : [sel];
      targets = [];
      for (const s of list) {
        const name = typeof s === 'number' ? deviceNames[s] : String(s);
        if (name === undefined || !deviceNames.includes(name))
          p(`${k}.device`, `no spec device ${JSON.stringify(s)}`, `devices: ${deviceNames.join(', ')}`);
        else targets.push(name);
      }
    }
    const name = typeof c.name === 'string' ? c.name : `${type}${sel !== undefined ? ` (${targets.join(', ')})` : ''}`;
    const numberIn = (key: string, lo: number, hi: number, dflt?: number): number => {
      const v = c[key];
      if (v === undefined && dflt !== undefined) return dflt;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
        p(
          `${k}.${key}`,
          v === undefined ? 'required' : `must be a number from ${lo} to ${hi}, got ${JSON.stringify(v)}`,
        );
        return dflt ?? lo;
      }
      return v;
    };
    const base = { name, devices: targets };
    const windowMs = () => duration(`${k}.window`, c.window, 60_000);
    switch (type) {
      case 'hashrate': {
        const expected = c.expected_ghs === undefined ? undefined : numberIn('expected_ghs', 0, 1e9);
        checks.push({
          ...base,
          type,
          minPercent: numberIn('min_percent', 0, 1000),
          windowMs: windowMs(),
          expectedGhs: expected,
        });
        break;
      }
      case 'temperature':
        if (c.sensor !== undefined && typeof c.sensor !== 'string')
          p(`${k}.sensor`, 'must be a sensor name (chip, vr, …)');
        checks.push({
          ...base,
          type,
          max: numberIn('max', -50, 200),
          windowMs: windowMs(),
          sensor: typeof c.sensor === 'string' ? c.sensor : undefined,
        });
        break;
      case 'shares_increase':
        checks.push({ ...base, type, min: numberIn('min', 0, 1e12, 1), windowMs: windowMs() });
        break;
      case 'rejected_ratio':
        checks.push({ ...base, type, max: numberIn('max', 0, 1), windowMs: windowMs() });
        break;
      case 'survives_restart':
        if (c.require_hashing !== undefined && typeof c.require_hashing !== 'boolean')
          p(`${k}.require_hashing`, 'must be true or false');
        checks.push({
          ...base,
          type,
          timeoutMs: duration(`${k}.timeout`, c.timeout, 180_000, 1),
          requireHashing: c.require_hashing !== false,
        });
        break;
    }
  });
  if (script === undefined && checks.length === 0 && doc.script === undefined) {
    p('script', 'a test definition needs a script, checks, or both');
  }
  const scriptTimeoutMs = duration('timeout', doc.timeout, 30 * 60_000, 1);
  const pollMs = duration('poll', doc.poll, 5000, 100);
  if (doc.name !== undefined && typeof doc.name !== 'string') p('name', 'must be a string');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    file,
    dir: dirname(resolve(file)),
    name: typeof doc.name === 'string' ? doc.name : file.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/i, ''),
    script,
    scriptTimeoutMs,
    env,
    devices,
    checks,
    pollMs,
  };
}

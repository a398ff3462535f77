// Test definitions (JSON or YAML): `script` plus `devices[{hardware, software, attributes}]` as in
// the MVM seed, with declarative `checks`. The schema (shared/contracts/test-definition.ts) judges
// the shape; the definition is normalised here and the rules between keys run over it. Every
// problem is reported at once, located by key.
import { existsSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TEST_DEFINITION } from '../../shared/contracts/judged/test-definition.js';
import { isTable, judge, type Table } from '../../shared/contracts/judge.js';
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

export function validateSpec(doc: unknown, file: string, limit: DurationLimit = NO_JOB_LIMIT): TestSpec {
  const verdict = judge<Table>(TEST_DEFINITION, doc, { syntax: 'yaml' });
  const problems: ConfigProblem[] = verdict.problems.map((q) => ({ file, ...q }));
  const p = (key: string, message: string, hint?: string) => problems.push({ file, key, message, hint });
  const d = verdict.value;
  if (d === undefined) throw new ConfigError(problems);

  // Bounded: nothing in a test may last beyond the job's deadline (`limit`); the schema bounds
  // them from below (a timeout or poll interval of 0 would end or spin at once).
  const duration = (key: string, v: unknown, fallback: number): number => {
    if (v === undefined) return fallback;
    const ms = parseDuration(v as string | number) ?? fallback;
    if (ms <= limit.ms) return ms;
    p(key, `${JSON.stringify(v)} is longer than ${limit.what}`, 'shorten it (or ask for a longer instance_deadline)');
    return fallback;
  };

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries((d.env ?? {}) as Record<string, unknown>)) env[k] = String(v);

  const devices: SpecDevice[] = [];
  const names = new Set<string>();
  ((d.devices ?? []) as Array<Table | undefined>).forEach((dev = {}, i) => {
    const k = `devices[${i}]`;
    const name = (dev.name as string | undefined) ?? `device${i}`;
    if (names.has(name)) p(`${k}.name`, `duplicate name ${JSON.stringify(name)}`);
    names.add(name);
    let image: string | undefined;
    if (typeof dev.image === 'string') {
      image = resolve(dirname(resolve(file)), dev.image);
      if (!existsSync(image))
        p(`${k}.image`, `no such file ${image}`, "the image is resolved relative to the test definition's folder");
      if (dev.software === undefined)
        p(
          `${k}.image`,
          'give software too: the version the image carries',
          'e.g. software: v2.16.0, image: build/esp-miner.bin',
        );
    }
    devices.push({
      name,
      hardware: dev.hardware === undefined ? undefined : String(dev.hardware),
      software: dev.software === undefined ? undefined : String(dev.software),
      ...(image !== undefined ? { image } : {}),
      attributes: (dev.attributes as string[] | undefined) ?? [],
    });
  });
  const deviceNames = devices.map((x) => x.name);

  const checks: Check[] = [];
  ((d.checks ?? []) as Array<Table | undefined>).forEach((c, i) => {
    if (c === undefined) return; // reported by the judge
    const k = `checks[${i}]`;
    const type = c.type as CheckType;
    let targets = deviceNames;
    const sel = (c.devices ?? c.device) as string | number | Array<string | number> | undefined;
    if (sel !== undefined) {
      targets = [];
      for (const s of Array.isArray(sel) ? sel : [sel]) {
        const name = typeof s === 'number' ? deviceNames[s] : s;
        if (name === undefined || !deviceNames.includes(name))
          p(`${k}.device`, `no spec device ${JSON.stringify(s)}`, `devices: ${deviceNames.join(', ')}`);
        else targets.push(name);
      }
    }
    const name = typeof c.name === 'string' ? c.name : `${type}${sel !== undefined ? ` (${targets.join(', ')})` : ''}`;
    const base = { name, devices: targets };
    const num = (key: string, fallback: number) => (c[key] as number | undefined) ?? fallback;
    const windowMs = () => duration(`${k}.window`, c.window, 60_000);
    switch (type) {
      case 'hashrate':
        checks.push({
          ...base,
          type,
          minPercent: num('min_percent', 0),
          windowMs: windowMs(),
          expectedGhs: c.expected_ghs as number | undefined,
        });
        break;
      case 'temperature':
        checks.push({
          ...base,
          type,
          max: num('max', 0),
          windowMs: windowMs(),
          sensor: c.sensor as string | undefined,
        });
        break;
      case 'shares_increase':
        checks.push({ ...base, type, min: num('min', 1), windowMs: windowMs() });
        break;
      case 'rejected_ratio':
        checks.push({ ...base, type, max: num('max', 0), windowMs: windowMs() });
        break;
      case 'survives_restart':
        checks.push({
          ...base,
          type,
          timeoutMs: duration(`${k}.timeout`, c.timeout, 180_000),
          requireHashing: c.require_hashing !== false,
        });
        break;
    }
  });
  // Judged by what was written, so that a script or checks with mistakes do not also count as none.
  const written = isTable(doc) ? doc : {};
  const noChecks = written.checks === undefined || (Array.isArray(written.checks) && written.checks.length === 0);
  if (written.script === undefined && noChecks) p('script', 'a test definition needs a script, checks, or both');
  const scriptTimeoutMs = duration('timeout', d.timeout, 30 * 60_000);
  const pollMs = duration('poll', d.poll, 5000);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    file,
    dir: dirname(resolve(file)),
    name: typeof d.name === 'string' ? d.name : file.replace(/^.*\//, '').replace(/\.(ya?ml|json)$/i, ''),
    script: d.script as string | string[] | undefined,
    scriptTimeoutMs,
    env,
    devices,
    checks,
    pollMs,
  };
}

// Buildomat job files (`.github/buildomat/jobs/*.sh`): a bash script whose header, in `#:` comment
// lines right after the shebang, is TOML naming the job, its target and its output rules.
import TOML from '@iarna/toml';
import { ConfigError, type ConfigProblem } from '../shared/errors.js';

export interface JobFileDependency {
  job: string;
}

export interface JobFile {
  name: string;
  variety: 'basic';
  target?: string;
  outputRules: string[];
  dependencies: Record<string, JobFileDependency>;
  /** Header keys buildomat-github understands but a single `mvm job run` has no use for. */
  unused: string[];
  enabled: boolean;
  /** The whole file: the task runs it with bash, header comments and all. */
  script: string;
}

/** Keys of buildomat-github's job header that mvm accepts without acting on them. */
const UNUSED_KEYS = ['rust_toolchain', 'skip_clone', 'access_repo', 'publish'];
const KNOWN_KEYS = ['name', 'variety', 'target', 'output_rules', 'dependencies', 'enable', ...UNUSED_KEYS];

/** Extracts the TOML text of the header (the `#:` lines after an optional shebang). */
export function jobFileHeader(text: string): { toml: string; lines: number } {
  const lines = text.split(/\r?\n/);
  let i = lines[0]?.startsWith('#!') ? 1 : 0;
  const header: string[] = [];
  for (; i < lines.length && lines[i].startsWith('#:'); i++) {
    const rest = lines[i].slice(2);
    header.push(rest.startsWith(' ') ? rest.slice(1) : rest);
  }
  return { toml: header.join('\n'), lines: header.length };
}

/** Output rules are absolute globs, optionally prefixed by `!` (ignore), `=` (must match) and `%` (size may change). */
export function outputRuleProblem(rule: string): string | undefined {
  const body = rule.replace(/^[!=%]+/, '');
  if (!body.startsWith('/')) return `output rule "${rule}" must be an absolute path glob such as "/work/output/**/*"`;
  if (body.split('/').includes('..')) return `output rule "${rule}" must not contain ".."`;
  return undefined;
}

export function parseJobFile(text: string, file: string): JobFile {
  const { toml, lines } = jobFileHeader(text);
  if (lines === 0) {
    throw new ConfigError([
      {
        file,
        key: '(header)',
        message: 'no "#:" header lines after the first line',
        hint: 'a buildomat job file starts with "#!/bin/bash" then lines like: #: name = "build"',
      },
    ]);
  }
  let raw: Record<string, unknown>;
  try {
    raw = TOML.parse(toml) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError([
      { file, key: '(header)', message: `the "#:" header is not valid TOML: ${(err as Error).message.split('\n')[0]}` },
    ]);
  }
  const problems: ConfigProblem[] = [];
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') {
      problems.push({ file, key, message: 'must be a non-empty string' });
      return undefined;
    }
    return v;
  };

  for (const key of Object.keys(raw)) {
    if (!KNOWN_KEYS.includes(key)) {
      problems.push({ file, key, message: 'unknown header key', hint: `known keys: ${KNOWN_KEYS.join(', ')}` });
    }
  }
  const name = str('name');
  if (raw.name === undefined) problems.push({ file, key: 'name', message: 'missing', hint: 'add: #: name = "my-job"' });
  const variety = str('variety') ?? 'basic';
  if (variety !== 'basic') {
    problems.push({
      file,
      key: 'variety',
      message: `"${variety}" is not supported`,
      hint: 'only variety = "basic" exists',
    });
  }
  const target = str('target');

  const outputRules: string[] = [];
  if (raw.output_rules !== undefined) {
    if (!Array.isArray(raw.output_rules) || raw.output_rules.some((r) => typeof r !== 'string')) {
      problems.push({ file, key: 'output_rules', message: 'must be an array of strings' });
    } else {
      for (const rule of raw.output_rules as string[]) {
        const bad = outputRuleProblem(rule);
        if (bad) problems.push({ file, key: 'output_rules', message: bad });
        else outputRules.push(rule);
      }
    }
  }

  let enabled = true;
  if (raw.enable !== undefined) {
    if (typeof raw.enable !== 'boolean') problems.push({ file, key: 'enable', message: 'must be true or false' });
    else enabled = raw.enable;
  }

  const dependencies: Record<string, JobFileDependency> = {};
  if (raw.dependencies !== undefined) {
    if (typeof raw.dependencies !== 'object' || raw.dependencies === null || Array.isArray(raw.dependencies)) {
      problems.push({ file, key: 'dependencies', message: 'must be a table of [dependencies.NAME] tables' });
    } else {
      for (const [dep, v] of Object.entries(raw.dependencies as Record<string, unknown>)) {
        const job = (v as { job?: unknown } | null)?.job;
        if (typeof job !== 'string' || job === '') {
          problems.push({ file, key: `dependencies.${dep}.job`, message: 'must name the job this one depends on' });
        } else {
          dependencies[dep] = { job };
        }
      }
    }
  }

  if (problems.length) throw new ConfigError(problems);
  return {
    name: name!,
    variety: 'basic',
    target,
    outputRules,
    dependencies,
    unused: Object.keys(raw).filter((k) => UNUSED_KEYS.includes(k)),
    enabled,
    script: text,
  };
}

// Buildomat job files (`.github/buildomat/jobs/*.sh`): a bash script whose header, in `#:` comment
// lines right after the shebang, is TOML naming the job, its target and its output rules. The
// header's shape is judged by its schema (shared/contracts/job-file.ts); the output rules' form
// is checked here.
import TOML from '@iarna/toml';
import { UNUSED_JOB_FILE_KEYS } from '../shared/contracts/job-file-keys.js';
import { JOB_FILE_HEADER } from '../shared/contracts/judged/job-file.js';
import { judge } from '../shared/contracts/judge.js';
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
  const verdict = judge<Header>(JOB_FILE_HEADER, raw);
  const problems: ConfigProblem[] = verdict.problems.map((q) => ({ file, ...q }));
  const h = verdict.value ?? {};
  const outputRules: string[] = [];
  for (const rule of h.output_rules ?? []) {
    const bad = outputRuleProblem(rule);
    if (bad) problems.push({ file, key: 'output_rules', message: bad });
    else outputRules.push(rule);
  }
  const dependencies: Record<string, JobFileDependency> = {};
  for (const [dep, v] of Object.entries(h.dependencies ?? {}))
    if (v.job !== undefined) dependencies[dep] = { job: v.job };

  if (problems.length) throw new ConfigError(problems);
  return {
    name: h.name!,
    variety: 'basic',
    target: h.target,
    outputRules,
    dependencies,
    unused: Object.keys(raw).filter((k) => (UNUSED_JOB_FILE_KEYS as readonly string[]).includes(k)),
    enabled: h.enable ?? true,
    script: text,
  };
}

/** The header as the schema left it (what was wrong left out). */
interface Header {
  name?: string;
  target?: string;
  output_rules?: string[];
  dependencies?: Record<string, { job?: string }>;
  enable?: boolean;
}

// Building a job submission from `mvm job run`'s arguments (and a buildomat job file when given):
// every argument is checked here, before anything is sent to a server.
import { basename } from 'node:path';
import { readSmallFile } from '../shared/small-file.js';
import { JOB_LIMITS } from '../shared/job-limits.js';
import type { JobSubmit } from '../shared/api/types.js';
import { MvmError } from '../shared/errors.js';
import { outputRuleProblem, parseJobFile } from './jobfile.js';

/** Added when neither the job file nor the command line names any output rule. */
export const DEFAULT_OUTPUT_RULE = '/work/output/**/*';

export interface RunArgs {
  target?: string;
  script?: string;
  file?: string;
  name?: string;
  input?: string[];
  'output-rule'?: string[];
  env?: string[];
  tag?: string[];
}

export interface JobPlan {
  submit: JobSubmit;
  inputs: Array<string | { file: string; name: string }>;
  /** Things the person should know (ignored job-file keys and the like). */
  notes: string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses repeated K=V options into a map; `what` names the option for messages. */
export function parsePairs(values: string[] | undefined, what: 'env' | 'tag'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? '' : v.slice(0, eq);
    if (eq <= 0) {
      throw new MvmError('USAGE', `--${what} ${JSON.stringify(v)} is not KEY=VALUE`, {
        hint: `e.g. --${what} MODE=fast`,
      });
    }
    if (what === 'env' && !ENV_NAME.test(key)) {
      throw new MvmError('USAGE', `--env ${JSON.stringify(v)}: "${key}" is not a valid variable name`, {
        hint: 'names are letters, digits and underscores, not starting with a digit',
      });
    }
    if (key in out) throw new MvmError('USAGE', `--${what} ${key} is given twice`, { hint: 'give each key once' });
    out[key] = v.slice(eq + 1);
  }
  return out;
}

function readScript(file: string, flag: string): string {
  try {
    return readSmallFile(file, `the --${flag} file`, JOB_LIMITS.scriptBytes);
  } catch (err) {
    if (err instanceof MvmError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new MvmError(
      'USAGE',
      `cannot read the ${flag} file ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      {
        cause: err,
        hint: `check the path given to --${flag}`,
      },
    );
  }
}

export function planJob(args: RunArgs): JobPlan {
  if (args.script && args.file) {
    throw new MvmError('USAGE', '--script and --file both given', {
      hint: 'use --script for a plain script, --file for a buildomat job file',
    });
  }
  if (!args.script && !args.file) {
    throw new MvmError('USAGE', 'nothing to run', {
      hint: 'pass --script FILE (a bash script) or --file FILE (a buildomat job file)',
    });
  }
  const notes: string[] = [];
  let name: string | undefined;
  let target: string | undefined;
  let fileRules: string[] = [];
  let script: string;
  if (args.file) {
    const jf = parseJobFile(readScript(args.file, 'file'), args.file);
    name = jf.name;
    target = jf.target;
    fileRules = jf.outputRules;
    script = jf.script;
    if (!jf.enabled) notes.push(`${args.file} says enable = false; running it because it was asked for by name`);
    if (jf.unused.length) notes.push(`${args.file}: ignoring header keys mvm does not use: ${jf.unused.join(', ')}`);
    const deps = Object.keys(jf.dependencies);
    if (deps.length)
      notes.push(`${args.file}: ignoring dependencies (${deps.join(', ')}); submit those jobs separately`);
  } else {
    script = readScript(args.script!, 'script');
    name = basename(args.script!).replace(/\.(sh|bash)$/, '');
  }
  name = args.name ?? name;
  target = args.target ?? target;
  if (!target) {
    throw new MvmError('USAGE', 'no target given', {
      hint: args.file ? `pass --target NAME or add: #: target = "NAME" to ${args.file}` : 'pass --target NAME',
    });
  }
  if (!name) throw new MvmError('USAGE', 'the job name is empty', { hint: 'pass --name NAME' });

  const flagRules = args['output-rule'] ?? [];
  for (const rule of flagRules) {
    const bad = outputRuleProblem(rule);
    if (bad)
      throw new MvmError('USAGE', `--output-rule: ${bad}`, {
        hint: 'prefix "!" ignores, "=" must match, "%" size may change',
      });
  }
  const rules = [...fileRules, ...flagRules];
  const submit: JobSubmit = {
    name,
    target,
    tasks: [{ name, script, env: parsePairs(args.env, 'env'), env_clear: false }],
    output_rules: rules.length ? rules : [DEFAULT_OUTPUT_RULE],
    inputs: [],
    tags: parsePairs(args.tag, 'tag'),
  };
  return { submit, inputs: args.input ?? [], notes };
}

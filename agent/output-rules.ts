// Output rules: buildomat globs, absolute, with prefixes `!` (ignore what matches), `=` (must
// match at least one file) and `%` (the file's size may change while it is uploaded). The server
// normally hands the flags over already parsed; a rule whose text still carries prefixes is parsed
// here too. Paths under `/work` are mapped into the job's work directory.
import { isAbsolute, join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { WorkerPingOutputRule } from '../shared/api/types.js';

export interface OutputRule {
  /** The glob as the job wrote it (absolute, possibly under /work). */
  rule: string;
  ignore: boolean;
  requireMatch: boolean;
  sizeChangeOk: boolean;
}

/** Parses `!`, `=` and `%` prefixes off a rule's text. */
export function parseRuleText(text: string): OutputRule {
  const r: OutputRule = { rule: text, ignore: false, requireMatch: false, sizeChangeOk: false };
  for (;;) {
    const c = r.rule[0];
    if (c === '!') r.ignore = true;
    else if (c === '=') r.requireMatch = true;
    else if (c === '%') r.sizeChangeOk = true;
    else break;
    r.rule = r.rule.slice(1);
  }
  return r;
}

/** The rule from a ping, with any prefixes still in its text merged into its flags. */
export function fromPing(r: WorkerPingOutputRule): OutputRule {
  const p = parseRuleText(r.rule);
  return {
    rule: p.rule,
    ignore: r.ignore || p.ignore,
    requireMatch: r.require_match || p.requireMatch,
    sizeChangeOk: r.size_change_ok || p.sizeChangeOk,
  };
}

/** Maps buildomat's `/work` to the job's work directory, both ways. */
export class WorkPaths {
  constructor(readonly workDir: string) {}

  /** A job path (`/work/x`, or any other absolute path) as a local path; a relative one is under /work. */
  toLocal(path: string): string {
    if (path === '/work') return this.workDir;
    if (path.startsWith('/work/')) return join(this.workDir, path.slice('/work/'.length));
    if (!isAbsolute(path)) return join(this.workDir, path);
    return path;
  }

  /** A local path as the job sees it: under the work directory it becomes `/work/...`. */
  toJob(local: string): string {
    const rel = relative(this.workDir, local);
    if (rel === '') return '/work';
    if (!rel.startsWith('..') && !isAbsolute(rel)) return '/work/' + rel.split(sep).join('/');
    return local;
  }
}

export interface CompiledRule extends OutputRule {
  /** The glob on the local file system. */
  local: string;
  /** Static directory prefix of `local` and the glob below it (for the directory walk). */
  base: string;
  glob: string;
  isGlob: boolean;
  /** Matches a job path (`/work/...` form) against the rule. */
  matches: (jobPath: string) => boolean;
}

export interface RuleProblem {
  rule: string;
  message: string;
}

export function compileRules(
  rules: OutputRule[],
  paths: WorkPaths,
): { rules: CompiledRule[]; problems: RuleProblem[] } {
  const out: CompiledRule[] = [];
  const problems: RuleProblem[] = [];
  for (const r of rules) {
    if (!r.rule.startsWith('/')) {
      problems.push({
        rule: r.rule,
        message: 'an output rule must be an absolute path or glob (e.g. /work/out/*.log)',
      });
      continue;
    }
    let matcher: (p: string) => boolean;
    try {
      matcher = picomatch(r.rule, { dot: true });
    } catch (err) {
      problems.push({ rule: r.rule, message: `not a valid glob: ${(err as Error).message}` });
      continue;
    }
    const local = paths.toLocal(r.rule);
    const scan = picomatch.scan(local);
    out.push({ ...r, local, base: scan.base || '/', glob: scan.glob, isGlob: scan.isGlob, matches: matcher });
  }
  return { rules: out, problems };
}

// GitHub Actions: a step summary (a Markdown table of the job's checks appended to the file named by
// GITHUB_STEP_SUMMARY) and `::error::` workflow commands, which GitHub shows as annotations on the
// run, for every failed check. Used only when GITHUB_ACTIONS=true.
import { appendFileSync } from 'node:fs';
import type { JobResult } from './job-result.js';

export function onGithubActions(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** A cell of a Markdown table: no line breaks, pipes escaped. */
function cell(s: string): string {
  return s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').slice(0, 500);
}

export function stepSummary(result: JobResult): string {
  const failed = result.checks.filter((c) => !c.ok).length;
  const icon = result.state === 'completed' ? '✅' : '❌';
  const lines = [
    `### ${icon} mvm job ${cell(result.name)}: ${result.state}`,
    '',
    `Job \`${result.id}\` on target \`${cell(result.target)}\` — ${result.checks.length - failed} of ${result.checks.length} checks passed.`,
    '',
  ];
  if (result.checks.length > 0) {
    lines.push('| | check | suite | detail |', '|---|---|---|---|');
    for (const c of result.checks)
      lines.push(`| ${c.ok ? '✅' : '❌'} | ${cell(c.name)} | ${cell(c.suite)} | ${cell(c.message)} |`);
    lines.push('');
  }
  if (result.outputs.length > 0) {
    lines.push(`Outputs: ${result.outputs.map((o) => `\`${cell(o.path)}\``).join(', ')}`, '');
  }
  return lines.join('\n') + '\n';
}

/** Escapes the message of a workflow command (GitHub's own rules). */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
/** Escapes a property of a workflow command (title=…). */
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

/** One `::error::` line per failed check; one for the job when it failed with no failed check to blame. */
export function errorAnnotations(result: JobResult): string[] {
  const failed = result.checks.filter((c) => !c.ok);
  const lines = failed.map(
    (c) => `::error title=${escapeProperty(`${c.suite}: ${c.name}`)}::${escapeData(c.message || 'failed')}`,
  );
  if (lines.length === 0 && result.state !== 'completed')
    lines.push(
      `::error title=${escapeProperty(`mvm job ${result.name}`)}::${escapeData(`job ${result.id} ${result.state}`)}`,
    );
  return lines;
}

/** Writes the step summary (when the file is named) and prints the annotations on stdout. */
export function reportToGithub(result: JobResult, out: (line: string) => void, env = process.env): void {
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, stepSummary(result));
  for (const line of errorAnnotations(result)) out(line);
}

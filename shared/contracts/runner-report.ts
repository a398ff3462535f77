// What `mvm runner restore --json` and `mvm runner health --json` print: one JSON object on the
// last line of stdout. The runner builds these types and checks what it prints; the factory checks
// what it reads. Both judge by the plain-data schemas (no TypeBox, no ajv at run time: a restore
// runs after every job); the TypeBox source is runner-report-schema.ts.
import { HEALTH_REPORT } from './judged/health-report.js';
import { RESTORE_REPORT } from './judged/restore-report.js';
import { defineJudgedContract } from './judged-contract.js';
import type { HealthReport, RestoreReport } from './runner-report-schema.js';

export type {
  DeviceHealth,
  DeviceRestore,
  HealthCheck,
  HealthReport,
  RestoreAction,
  RestoreReport,
} from './runner-report-schema.js';

export const RESTORE_ACTIONS = ['firmware', 'pools', 'settings', 'restart', 'command'] as const;
export const HEALTH_CHECKS = ['answers', 'firmware', 'hashrate', 'temperature', 'stable', 'command'] as const;

export type RestoreActionName = (typeof RESTORE_ACTIONS)[number];
export type HealthCheckName = (typeof HEALTH_CHECKS)[number];

export const restoreReportContract = defineJudgedContract<RestoreReport>("the runner's restore report", RESTORE_REPORT);
export const healthReportContract = defineJudgedContract<HealthReport>("the runner's health report", HEALTH_REPORT);

export type RunnerReportKind = 'restore' | 'health';
export type RunnerReport = { kind: 'restore'; report: RestoreReport } | { kind: 'health'; report: HealthReport };

export interface ReportRead {
  report?: RunnerReport;
  /** Why the last JSON object on stdout is not a valid report (located problems), when it is not. */
  problems?: string;
}

/**
 * The report on stdout: the last line that is a JSON object (a login shell or a driver may print
 * before it), checked against the kind's contract.
 */
export function readRunnerReport(kind: RunnerReportKind, stdout: string): ReportRead {
  const contract = kind === 'restore' ? restoreReportContract : healthReportContract;
  for (const line of stdout.trim().split('\n').reverse()) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    let value: unknown;
    try {
      value = JSON.parse(t);
    } catch {
      continue;
    }
    const problems = contract.problems(value);
    if (problems.length === 0) return { report: { kind, report: value } as RunnerReport };
    return { problems: problems.map((p) => `${p.key}: ${p.message}`).join('; ') };
  }
  return {};
}

// What `mvm runner restore --json` and `mvm runner health --json` print: one JSON object on the
// last line of stdout. The runner builds these types; the factory validates what it reads.
import { Type, type Static } from '@sinclair/typebox';
import { defineContract } from './validate.js';

export const RESTORE_ACTIONS = ['firmware', 'pools', 'settings', 'restart', 'command'] as const;
export const HEALTH_CHECKS = ['answers', 'firmware', 'hashrate', 'temperature', 'stable', 'command'] as const;

const literals = <T extends string>(names: readonly T[]) => Type.Union(names.map((n) => Type.Literal(n)));

export const RestoreActionSchema = Type.Object({
  action: literals(RESTORE_ACTIONS),
  ok: Type.Boolean(),
  message: Type.String(),
  from: Type.Optional(Type.String()),
  to: Type.Optional(Type.String()),
});

export const DeviceRestoreSchema = Type.Object({
  device: Type.String(),
  ok: Type.Boolean(),
  actions: Type.Array(RestoreActionSchema),
  error: Type.Optional(Type.String()),
});

export const RestoreReportSchema = Type.Object({
  ok: Type.Boolean(),
  testbed: Type.String(),
  devices: Type.Array(DeviceRestoreSchema),
});

export const HealthCheckSchema = Type.Object({
  name: literals(HEALTH_CHECKS),
  ok: Type.Boolean(),
  message: Type.String(),
  measured: Type.Optional(Type.Unknown()),
});

export const DeviceHealthSchema = Type.Object({
  device: Type.String(),
  ok: Type.Boolean(),
  checks: Type.Array(HealthCheckSchema),
});

export const HealthReportSchema = Type.Object({
  ok: Type.Boolean(),
  testbed: Type.String(),
  devices: Type.Array(DeviceHealthSchema),
  summary: Type.String(),
});

export type RestoreActionName = (typeof RESTORE_ACTIONS)[number];
export type RestoreAction = Static<typeof RestoreActionSchema>;
export type DeviceRestore = Static<typeof DeviceRestoreSchema>;
export type RestoreReport = Static<typeof RestoreReportSchema>;
export type HealthCheckName = (typeof HEALTH_CHECKS)[number];
export type HealthCheck = Static<typeof HealthCheckSchema>;
export type DeviceHealth = Static<typeof DeviceHealthSchema>;
export type HealthReport = Static<typeof HealthReportSchema>;

export const restoreReportContract = defineContract("the runner's restore report", RestoreReportSchema);
export const healthReportContract = defineContract("the runner's health report", HealthReportSchema);

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

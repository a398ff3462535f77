// Reading what `mvm runner restore|health --json` printed (shared/contracts/runner-report.ts),
// turned into a verdict and a one-line message a person reads in the journal.
import {
  readRunnerReport,
  type DeviceHealth,
  type DeviceRestore,
  type RunnerReportKind,
} from '../shared/contracts/runner-report.js';
import type { RunnerResult } from './executor/types.js';

export interface RunnerVerdict {
  ok: boolean;
  message: string;
}

const tail = (s: string) => s.trim().split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 500);

/** What a device's steps say, failures first. */
function describeDevice(d: DeviceRestore | DeviceHealth): string {
  const steps =
    'actions' in d ? d.actions.map((a) => ({ ...a, label: a.action })) : d.checks.map((c) => ({ ...c, label: c.name }));
  const failed = steps.filter((s) => !s.ok).map((s) => s.message || s.label);
  if ('error' in d && d.error) failed.unshift(d.error);
  const text = !d.ok
    ? failed.join('; ') || 'failed'
    : steps
        .map((s) => s.message)
        .filter(Boolean)
        .join('; ') || 'ok';
  return `${d.device}: ${text}`;
}

/** `what` names the operation for people ("restore", "health check"). */
export function readVerdict(kind: RunnerReportKind, what: string, r: RunnerResult): RunnerVerdict {
  if (r.timedOut)
    return {
      ok: false,
      message: `the runner's ${what} did not finish in time${r.stderr ? ` (${tail(r.stderr)})` : ''}`,
    };
  const read = readRunnerReport(kind, r.stdout);
  if (!read.report) {
    const how = r.signal ? `was killed by ${r.signal}` : `exited ${r.code}`;
    const why = read.problems
      ? `with a report that breaks its contract (${read.problems})`
      : `without a report${r.stderr || r.stdout ? `: ${tail(r.stderr || r.stdout)}` : ''}`;
    return { ok: false, message: `the runner's ${what} ${how} ${why}` };
  }
  const report = read.report.report;
  const devices: Array<DeviceRestore | DeviceHealth> = report.devices;
  const shown = report.ok ? devices : devices.filter((d) => !d.ok);
  const summary = 'summary' in report ? report.summary : '';
  const message = summary || shown.map(describeDevice).join('; ') || (report.ok ? 'ok' : 'failed');
  // A report that says ok with a failing exit status is not trusted.
  if (report.ok && r.code !== 0) return { ok: false, message: `the runner's ${what} exited ${r.code}: ${message}` };
  return { ok: report.ok, message };
}

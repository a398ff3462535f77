// Reading what `mvm runner restore|health --json` printed: one JSON object (the last line that is
// one), turned into a verdict and a one-line message a person reads in the journal.
import type { RunnerResult } from './executor/types.js';

export interface RunnerVerdict {
  ok: boolean;
  message: string;
}

interface Step {
  action?: string;
  name?: string;
  ok?: boolean;
  message?: string;
}

interface DeviceReport {
  device?: string;
  ok?: boolean;
  error?: string;
  actions?: Step[];
  checks?: Step[];
}

interface Report {
  ok?: unknown;
  summary?: unknown;
  devices?: DeviceReport[];
}

function lastJson(stdout: string): Report | undefined {
  const lines = stdout.trim().split('\n').reverse();
  for (const l of lines) {
    const t = l.trim();
    if (!t.startsWith('{')) continue;
    try {
      const v = JSON.parse(t);
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Report;
    } catch {
      /* not this line */
    }
  }
  return undefined;
}

const tail = (s: string) => s.trim().split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 500);

/** What a device's steps say, failures first. */
function describeDevice(d: DeviceReport): string {
  const steps: Step[] = [...(d.actions ?? []), ...(d.checks ?? [])];
  const failed = steps.filter((s) => s.ok === false).map((s) => s.message ?? s.action ?? s.name ?? 'failed');
  if (d.error) failed.unshift(d.error);
  const text =
    d.ok === false
      ? failed.join('; ') || 'failed'
      : steps
          .map((s) => s.message)
          .filter(Boolean)
          .join('; ') || 'ok';
  return `${d.device ?? '?'}: ${text}`;
}

export function readVerdict(what: string, r: RunnerResult): RunnerVerdict {
  if (r.timedOut)
    return {
      ok: false,
      message: `the runner's ${what} did not finish in time${r.stderr ? ` (${tail(r.stderr)})` : ''}`,
    };
  const report = lastJson(r.stdout);
  if (!report || typeof report.ok !== 'boolean') {
    const how = r.signal ? `was killed by ${r.signal}` : `exited ${r.code}`;
    return {
      ok: false,
      message: `the runner's ${what} ${how} without a report${r.stderr || r.stdout ? `: ${tail(r.stderr || r.stdout)}` : ''}`,
    };
  }
  const devices = Array.isArray(report.devices) ? report.devices : [];
  const shown = report.ok ? devices : devices.filter((d) => d.ok === false);
  const message =
    typeof report.summary === 'string' && report.summary
      ? report.summary
      : shown.map(describeDevice).join('; ') || (report.ok ? 'ok' : 'failed');
  // A report that says ok with a failing exit status is not trusted.
  if (report.ok && r.code !== 0) return { ok: false, message: `the runner's ${what} exited ${r.code}: ${message}` };
  return { ok: report.ok, message };
}

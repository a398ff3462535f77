// The infrastructure-failure report: one JSON line per runner command that failed because of the
// testbed (a device unreachable or timing out, a flash that did not take, a device that needs a
// person), appended to `infra-failures.jsonl` beside the testbed description, so that the factory
// can tell a broken testbed from a failing test. Devices given with --driver/--address have no
// testbed description, so no report.
import { appendFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describeError } from '../shared/errors.js';
import { DriverError, type DriverFailure } from './drivers/errors.js';

export const INFRA_REPORT_FILE = 'infra-failures.jsonl';

/** The reasons that say the testbed, not the test, is at fault. */
export const INFRA_REASONS: readonly DriverFailure[] = ['unreachable', 'timeout', 'verify_failed', 'needs_attention'];

export type InfraCommand = 'flash' | 'control' | 'telemetry' | 'info' | 'test';

export interface InfraFailure {
  at: string;
  command: InfraCommand;
  device: string;
  reason: DriverFailure;
  message: string;
}

export function infraReportPath(testbedFile: string): string {
  return join(dirname(resolve(testbedFile)), INFRA_REPORT_FILE);
}

export function isInfraReason(reason: unknown): reason is DriverFailure {
  return INFRA_REASONS.includes(reason as DriverFailure);
}

/** The report's entries; a torn or unreadable line (a writer that died mid-line) is skipped. */
export function readInfraReport(text: string): InfraFailure[] {
  const out: InfraFailure[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as Partial<InfraFailure>;
      if (v && typeof v === 'object' && typeof v.device === 'string' && typeof v.reason === 'string')
        out.push(v as InfraFailure);
    } catch {
      /* torn line */
    }
  }
  return out;
}

/**
 * Appends one entry. Never throws: the report must not hide the failure it reports, so a write
 * problem is only mentioned on stderr.
 */
export function appendInfraFailure(testbedFile: string, entry: Omit<InfraFailure, 'at'>): void {
  const file = infraReportPath(testbedFile);
  try {
    // One write of one line: concurrent runner processes append whole lines.
    appendFileSync(file, JSON.stringify({ at: new Date().toISOString(), ...entry }) + '\n');
  } catch (err) {
    process.stderr.write(
      `mvm: warning: could not write the infrastructure-failure report ${file}: ${describeError(err)}\n`,
    );
  }
}

/** Records `err` when it is an infrastructure failure of a device from a testbed description. */
export function reportIfInfra(
  testbedFile: string | undefined,
  command: InfraCommand,
  device: string,
  err: unknown,
): void {
  if (testbedFile === undefined || !(err instanceof DriverError) || !isInfraReason(err.reason)) return;
  appendInfraFailure(testbedFile, { command, device, reason: err.reason, message: err.message });
}

// The runner's side of the infrastructure-failure report (shared/contracts/infra-report.ts): one
// entry appended to `infra-failures.jsonl` beside the testbed description for each runner
// command that failed because of the testbed, so that the factory can tell a broken testbed from
// a failing test. Devices given with --driver/--address have no testbed description, so no report.
import { appendFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  infraReportLine,
  isInfraReason,
  parseInfraReport,
  type InfraCommand,
  type InfraFailure,
} from '../shared/contracts/infra-report.js';
import { INSTANCE_FILES } from '../shared/contracts/layout.js';
import { describeError } from '../shared/errors.js';
import { DriverError } from './drivers/errors.js';

export { isInfraReason, type InfraCommand, type InfraFailure };

export function infraReportPath(testbedFile: string): string {
  return join(dirname(resolve(testbedFile)), INSTANCE_FILES.infraReport);
}

/** The report's valid entries; a torn or invalid line (a writer that died mid-line) is skipped. */
export function readInfraReport(text: string): InfraFailure[] {
  return parseInfraReport(text).failures;
}

/**
 * Appends one entry. Never throws: the report must not hide the failure it reports, so a write
 * problem is only mentioned on stderr.
 */
export function appendInfraFailure(testbedFile: string, entry: Omit<InfraFailure, 'at'>): void {
  const file = infraReportPath(testbedFile);
  try {
    // One write of one line: concurrent runner processes append whole lines.
    appendFileSync(file, infraReportLine({ at: new Date().toISOString(), ...entry }));
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

// infra-failures.jsonl: one JSON line per runner command that failed because of the testbed (a
// device unreachable or timing out, a flash that did not take, a device that needs a person).
// The runner appends it beside testbed.json; the factory reads it once the agent is stopped. Both
// judge by the plain-data schema (the TypeBox source is infra-report-schema.ts).
import type { InfraFailure } from './infra-report-schema.js';
import { INFRA_FAILURE } from './judged/infra-failure.js';
import { defineJudgedContract } from './judged-contract.js';
import { INSTANCE_FILES } from './layout.js';

export type { InfraFailure } from './infra-report-schema.js';

/** The reasons that say the testbed, not the test, is at fault. */
export const INFRA_REASONS = ['unreachable', 'timeout', 'verify_failed', 'needs_attention'] as const;
export type InfraReason = (typeof INFRA_REASONS)[number];

export const INFRA_COMMANDS = ['flash', 'control', 'telemetry', 'info', 'test'] as const;
export type InfraCommand = (typeof INFRA_COMMANDS)[number];

export const infraFailureContract = defineJudgedContract<InfraFailure>(
  'an infrastructure-failure entry',
  INFRA_FAILURE,
);

export function isInfraReason(reason: unknown): reason is InfraReason {
  return INFRA_REASONS.includes(reason as InfraReason);
}

/** One line of the report, as the writer appends it (one write of one whole line). */
export function infraReportLine(entry: InfraFailure): string {
  return JSON.stringify(infraFailureContract.check(entry, INSTANCE_FILES.infraReport)) + '\n';
}

export interface InfraReportParsed {
  failures: InfraFailure[];
  /** Lines that were not a valid entry (a writer that died mid-line, a foreign writer). */
  rejected: number;
}

/** The report's valid entries; torn or invalid lines are counted, not trusted. */
export function parseInfraReport(text: string): InfraReportParsed {
  const failures: InfraFailure[] = [];
  let rejected = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = infraFailureContract.tryParse(line);
    if (entry) failures.push(entry);
    else rejected++;
  }
  return { failures, rejected };
}

/** One line per failure for the factory's journal. */
export function summariseInfraReport(text: string): string[] {
  return parseInfraReport(text).failures.map((f) => `${f.device}: ${f.message} [${f.reason}] (runner ${f.command})`);
}

// The runner's infrastructure-failure report (runner/infra-report.ts writes it beside the testbed
// description: infra-failures.jsonl), summarised one line per failure for the journal.
import { readInfraReport } from '../runner/infra-report.js';

export function summariseInfraReport(text: string): string[] {
  return readInfraReport(text).map((f) => `${f.device}: ${f.message} [${f.reason}] (runner ${f.command})`);
}

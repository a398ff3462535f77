// `mvm runner test --spec FILE [--output DIR]`
import { join, resolve, sep } from 'node:path';
import { MvmError } from '../../shared/errors.js';
import { rootLogger } from '../../shared/log.js';
import { installShutdown } from '../../shared/shutdown.js';
import { firmwareDirFrom } from '../firmware/library.js';
import { appendInfraFailure, isInfraReason } from '../infra-report.js';
import { loadTestbed } from '../testbed.js';
import { lockTestbed } from './common.js';
import { runTest, type TestReport } from '../device-tests/run.js';
import { jobDeadlineLimit, loadSpec, NO_JOB_LIMIT } from '../device-tests/spec.js';

export interface TestArgs {
  spec: string;
  output?: string;
  testbed?: string;
  poll?: number;
  'progress-every'?: number;
  'firmware-dir'?: string;
  json: boolean;
  'ignore-lock'?: boolean;
}

/** Devices that failed the test's preparation or stopped answering in a check: the testbed's fault. */
function reportInfra(testbedFile: string, report: TestReport): void {
  for (const p of report.preparation) {
    if (!p.ok && isInfraReason(p.reason))
      appendInfraFailure(testbedFile, { command: 'test', device: p.device, reason: p.reason, message: p.message });
  }
  for (const c of report.checks) {
    if (!c.ok && isInfraReason(c.reason))
      appendInfraFailure(testbedFile, {
        command: 'test',
        device: c.testbedDevice,
        reason: c.reason,
        message: `${c.name}: ${c.message}`,
      });
  }
}

function humanLines(report: TestReport, outputDir: string): string[] {
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
  const lines = [
    `test ${report.name}: ${report.ok ? 'PASSED' : 'FAILED'} in ${Math.round(report.durationMs / 100) / 10} s`,
  ];
  for (const a of report.assignments) lines.push(`  device ${a.spec} = ${a.device} (${a.driver} ${a.address})`);
  for (const p of report.preparation) lines.push(`  ${mark(p.ok)} prepare ${p.device}: ${p.message}`);
  if (report.error) lines.push(`  ${report.error}`);
  if (report.script) lines.push(`  ${mark(report.script.ok)} ${report.script.name}: ${report.script.message}`);
  for (const c of report.checks) lines.push(`  ${mark(c.ok)} ${c.name} [${c.testbedDevice}]: ${c.message}`);
  lines.push(`  results: ${shownPath(outputDir, 'results.json')}, ${shownPath(outputDir, 'junit.xml')}`);
  return lines;
}

/**
 * A results file as the person reading will find it: inside a job, by its output path
 * (/work/output/…, as `mvm job outputs` lists it), not the agent's folder for the job.
 */
export function shownPath(dir: string, file: string, env: NodeJS.ProcessEnv = process.env): string {
  const full = join(dir, file);
  const out = env.MVM_OUTPUT_DIR ? resolve(env.MVM_OUTPUT_DIR) : undefined;
  if (out && (full === out || full.startsWith(out + sep))) return `/work/output${full.slice(out.length)}`;
  return full;
}

export async function runTestCommand(args: TestArgs): Promise<void> {
  const testbedFile = args.testbed ?? process.env.MVM_TESTBED;
  // In a job the testbed description carries the job's deadline: nothing in the test may outlast it.
  const described = testbedFile ? loadTestbed(testbedFile) : undefined;
  const spec = loadSpec(
    args.spec,
    described?.deadline !== undefined ? jobDeadlineLimit(described.deadline) : NO_JOB_LIMIT,
  );
  if (!testbedFile) {
    throw new MvmError('USAGE', 'no testbed: give --testbed FILE or set MVM_TESTBED', {
      hint: 'inside a job the agent sets MVM_TESTBED; on a bench write a testbed.json (doc/runner.md)',
    });
  }
  const testbed = described!;
  await lockTestbed('test', testbed, args['ignore-lock']);
  const outputDir = resolve(args.output ?? process.env.MVM_OUTPUT_DIR ?? 'mvm-results');
  const shutdown = installShutdown();
  const log = rootLogger().child({ test: spec.name, testbed: testbed.testbed });
  try {
    const report = await runTest({
      spec,
      devices: testbed.devices,
      outputDir,
      signal: shutdown.graceful,
      log,
      pollMs: args.poll,
      progressEveryMs: args['progress-every'],
      // The script's stdout stays stdout, unless stdout carries the JSON report.
      echoStdout: args.json ? process.stderr : process.stdout,
      firmwareDir: firmwareDirFrom({ flag: args['firmware-dir'], testbed: testbed.firmwareDir }),
    });
    reportInfra(testbedFile, report);
    if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
    else process.stdout.write(humanLines(report, outputDir).join('\n') + '\n');
    if (!report.ok) process.exitCode = 1;
  } finally {
    shutdown.dispose();
  }
}

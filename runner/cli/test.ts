// `mvm runner test --spec FILE [--output DIR]`
import { resolve } from 'node:path';
import { MvmError } from '../../shared/errors.js';
import { rootLogger } from '../../shared/log.js';
import { installShutdown } from '../../shared/shutdown.js';
import { loadTestbed } from '../testbed.js';
import { runTest } from '../test/run.js';
import { loadSpec } from '../test/spec.js';

export async function runTestCommand(args: { spec: string; output?: string; testbed?: string; poll?: number; json: boolean }): Promise<void> {
  const spec = loadSpec(args.spec);
  const testbedFile = args.testbed ?? process.env.MVM_TESTBED;
  if (!testbedFile) {
    throw new MvmError('USAGE', 'no testbed: give --testbed FILE or set MVM_TESTBED', {
      hint: 'inside a job the agent sets MVM_TESTBED; on a bench write a testbed.json (doc/runner.md)',
    });
  }
  const testbed = loadTestbed(testbedFile);
  const outputDir = resolve(args.output ?? process.env.MVM_OUTPUT_DIR ?? 'mvm-results');
  const shutdown = installShutdown();
  const log = rootLogger().child({ test: spec.name, testbed: testbed.testbed });
  try {
    const report = await runTest({ spec, devices: testbed.devices, outputDir, signal: shutdown.graceful, log, pollMs: args.poll });
    if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
    else {
      const lines = [`test ${report.name}: ${report.ok ? 'PASSED' : 'FAILED'} in ${Math.round(report.durationMs / 100) / 10} s`];
      for (const a of report.assignments) lines.push(`  device ${a.spec} = ${a.device} (${a.driver} ${a.address})${a.note ? ` — note: ${a.note}` : ''}`);
      if (report.script) lines.push(`  ${report.script.ok ? 'ok  ' : 'FAIL'} script: ${report.script.message}`);
      for (const c of report.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} [${c.testbedDevice}]: ${c.message}`);
      lines.push(`  results: ${outputDir}/results.json, ${outputDir}/junit.xml`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    if (!report.ok) process.exitCode = 1;
  } finally {
    shutdown.dispose();
  }
}

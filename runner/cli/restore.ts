// `mvm runner restore`: every device of the testbed (or --device) back to its baseline.
import { restoreReportContract } from '../../shared/contracts/runner-report.js';
import { installShutdown } from '../../shared/shutdown.js';
import { firmwareDirFrom } from '../firmware/library.js';
import { restoreTestbed } from '../restore.js';
import { deviceReportLines, openTestbed, printJson } from './common.js';

export interface RestoreArgs {
  testbed?: string;
  device?: string;
  'firmware-dir'?: string;
  json: boolean;
  'ignore-lock'?: boolean;
  'progress-every'?: number;
}

export async function runRestore(args: RestoreArgs): Promise<void> {
  const { testbed, devices } = await openTestbed(args, process.env, 'restore');
  const shutdown = installShutdown();
  try {
    const report = await restoreTestbed({
      testbed,
      devices,
      firmwareDir: firmwareDirFrom({ flag: args['firmware-dir'], testbed: testbed.firmwareDir }),
      signal: shutdown.graceful,
      progressEveryMs: args['progress-every'],
      // Progress goes to stderr: with --json, stdout holds the one result object.
      onProgress: (device, e) => {
        if (!args.json && e.phase !== 'upload') process.stderr.write(`${device}: ${e.phase}: ${e.message}\n`);
      },
    });
    // What the factory reads: checked against the contract it reads with (a writer bug shows here).
    if (args.json) printJson(restoreReportContract.check(report, '--json report'));
    else {
      const failed = report.devices.filter((d) => !d.ok).map((d) => d.device);
      const title = report.ok
        ? `${report.testbed}: restored (${report.devices.length} device(s))`
        : `${report.testbed}: NOT restored: ${failed.join(', ')}`;
      const lines = deviceReportLines(
        title,
        report.devices.map((d) => ({
          device: d.device,
          ok: d.ok,
          items: d.actions.map((a) => ({ label: a.action, ok: a.ok, message: a.message })),
          empty: d.error ?? 'nothing to restore: no baseline firmware, pools or settings',
        })),
      );
      process.stdout.write(lines.join('\n') + '\n');
    }
    if (!report.ok) process.exitCode = 1;
  } finally {
    shutdown.dispose();
  }
}

// `mvm runner flash --image F`
import { resolve } from 'node:path';
import { describeError } from '../../shared/errors.js';
import { installShutdown } from '../../shared/shutdown.js';
import type { DeviceArgs } from '../command.js';
import { DriverError } from '../drivers/errors.js';
import { flashDevice } from '../flash.js';
import { progressSink } from '../progress.js';
import { openDevice, printJson, reportingInfra } from './common.js';

export async function runFlash(
  args: DeviceArgs & {
    image: string;
    'force-family'?: boolean;
    'poll-interval'?: number;
    'reboot-timeout'?: number;
    settle?: number;
    'progress-every'?: number;
  },
): Promise<void> {
  const opened = await openDevice(args, 'flash');
  const { driver } = opened;
  const name = driver.device.name;
  const json = Boolean(args.json);
  const sink = progressSink(name, json, process.stderr, process.stdout, { everyMs: args['progress-every'] });
  const shutdown = installShutdown();
  try {
    const report = await reportingInfra('flash', opened, (driver) =>
      flashDevice({
        driver,
        imageFile: resolve(args.image),
        forceFamily: args['force-family'] ?? false,
        onProgress: (e) => sink.event(e),
        signal: shutdown.graceful,
        timing: {
          pollIntervalMs: args['poll-interval'],
          rebootTimeoutMs: args['reboot-timeout'],
          settleMs: args.settle,
        },
      }),
    );
    sink.end();
    if (!json)
      process.stdout.write(
        `${name}: flashed ${report.version} (was ${report.previousVersion ?? '?'}), running from ${report.partition ?? '?'}, in ${Math.round(report.durationMs / 100) / 10} s\n`,
      );
    else printJson({ event: 'result', ...report });
  } catch (err) {
    sink.end();
    if (json) {
      printJson({
        event: 'result',
        ok: false,
        device: name,
        reason: err instanceof DriverError ? err.reason : ((err as { code?: string }).code ?? 'error'),
        needsAttention: err instanceof DriverError && err.reason === 'needs_attention',
        message: describeError(err),
      });
    }
    throw err;
  } finally {
    shutdown.dispose();
    await driver.close();
  }
}

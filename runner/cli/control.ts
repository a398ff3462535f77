// `mvm runner control …`
import type { DeviceArgs } from '../command.js';
import { parseControl, usageError } from '../control.js';
import { restartAndWait } from '../restart.js';
import { openDevice, printJson, reportingInfra } from './common.js';

export interface ControlArgs extends DeviceArgs {
  action: string;
  args?: Array<string | number>;
  'pool-url'?: string[];
  /** The old spelling of --pool-url (--url means the job server elsewhere). */
  url?: string[];
  user?: string[];
  password?: string[];
  /** restart: return when the device answers again. */
  wait?: boolean;
  /** restart --wait: how long the device may take, ms. */
  timeout?: number;
  /** restart --wait: how often to say how the wait goes, ms. */
  'progress-every'?: number;
}

export async function runControl(args: ControlArgs): Promise<void> {
  // Parse first: a usage mistake never reaches the device.
  if (args.url?.length)
    process.stderr.write(
      'mvm: warning: --url for pool URLs is deprecated; write --pool-url (--url is the job server)\n',
    );
  const action = parseControl([args.action, ...(args.args ?? []).map(String)], {
    url: [...(args['pool-url'] ?? []), ...(args.url ?? [])],
    user: args.user,
    password: args.password,
  });
  if (args.wait && action.op !== 'restart') usageError('--wait goes with restart only');
  const opened = await openDevice(args, 'control');
  const { driver } = opened;
  try {
    const result = await reportingInfra('control', opened, async (d) => {
      if (!args.wait) return d.control(action);
      // The wait lines go to stderr: stdout keeps the one result (a line, or the --json object).
      const back = await restartAndWait(d, {
        timeoutMs: args.timeout,
        onProgress: (line) => process.stderr.write(`${d.device.name}: ${line}\n`),
        progressEveryMs: args['progress-every'],
      });
      return {
        ok: true as const,
        action: 'restart' as const,
        message: back.message,
        details: { backAfterMs: back.backAfterMs },
      };
    });
    if (args.json) printJson({ device: driver.device.name, ...result });
    else
      process.stdout.write(
        `${driver.device.name}: ${result.message}${result.needsRestart ? ' (takes effect after a restart)' : ''}\n`,
      );
  } finally {
    await driver.close();
  }
}

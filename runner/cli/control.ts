// `mvm runner control …`
import type { DeviceArgs } from '../command.js';
import { parseControl } from '../control.js';
import { openDevice, printJson, reportingInfra } from './common.js';

export async function runControl(args: DeviceArgs & { action: string; args?: Array<string | number>; url?: string[]; user?: string[]; password?: string[] }): Promise<void> {
  // Parse first: a usage mistake never reaches the device.
  const action = parseControl([args.action, ...(args.args ?? []).map(String)], { url: args.url, user: args.user, password: args.password });
  const opened = openDevice(args, 'control');
  const { driver } = opened;
  try {
    const result = await reportingInfra('control', opened, (d) => d.control(action));
    if (args.json) printJson({ device: driver.device.name, ...result });
    else process.stdout.write(`${driver.device.name}: ${result.message}${result.needsRestart ? ' (takes effect after a restart)' : ''}\n`);
  } finally {
    await driver.close();
  }
}

// `mvm runner info`
import type { DeviceArgs } from '../command.js';
import { openDriver, printJson } from './common.js';

export async function runInfo(args: DeviceArgs): Promise<void> {
  const driver = openDriver(args);
  try {
    const info = await driver.info();
    if (args.json) printJson({ ...info, raw: undefined });
    else process.stdout.write(`${info.name}: ${info.model}, hardware ${info.hardware ?? '?'}, firmware ${info.firmwareVersion ?? '?'} (${info.driver} ${info.address})\n`);
  } finally {
    await driver.close();
  }
}

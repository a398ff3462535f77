// `mvm runner info`
import type { DeviceArgs } from '../command.js';
import { openDevice, printJson, reportingInfra } from './common.js';

export async function runInfo(args: DeviceArgs): Promise<void> {
  const opened = await openDevice(args);
  const { driver } = opened;
  try {
    const info = await reportingInfra('info', opened, (d) => d.info());
    if (args.json) printJson({ ...info, raw: undefined });
    else
      process.stdout.write(
        `${info.name}: ${info.model}, hardware ${info.hardware ?? '?'}, firmware ${info.firmwareVersion ?? '?'} (${info.driver} ${info.address})\n`,
      );
  } finally {
    await driver.close();
  }
}

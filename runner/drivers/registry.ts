// Driver kind → implementation. Adding a driver: implement Driver (types.ts) and add it here
// (doc/drivers.md walks through it).
import { AxeosDriver } from './axeos/driver.js';
import { CgminerDriver } from './cgminer/driver.js';
import { CommandDriver } from './command/driver.js';
import { DriverError } from './errors.js';
import { NmminerDriver } from './nmminer/driver.js';
import { DRIVER_KINDS, type DeviceSpec, type Driver } from './types.js';

export function createDriver(device: DeviceSpec): Driver {
  switch (device.driver) {
    case 'axeos':
      return new AxeosDriver(device);
    case 'cgminer':
      return new CgminerDriver(device);
    case 'nmminer':
      return new NmminerDriver(device);
    case 'command':
      return new CommandDriver(device);
    default:
      throw new DriverError(device.name, 'invalid_argument', `unknown driver ${JSON.stringify(device.driver)}`, {
        hint: `drivers: ${DRIVER_KINDS.join(', ')}`,
      });
  }
}

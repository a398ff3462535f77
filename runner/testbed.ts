// The testbed description the factory writes (MVM_TESTBED or --testbed FILE): its contract's
// schema judges the shape, the runner's rules (drivers, addresses, baselines) the rest, every
// problem reported, and how a command picks its device: by name, the only device, or given
// directly with --driver/--address.
import { readFileSync } from 'node:fs';
import { judge, type Table } from '../shared/contracts/judge.js';
import { TESTBED_DESCRIPTION } from '../shared/contracts/judged/testbed.js';
import { ConfigError, MvmError, type ConfigProblem } from '../shared/errors.js';
import { DRIVER_KINDS, type DeviceSpec, type DriverKind } from './drivers/types.js';
import { deviceBaseline, firmwareDirOf } from './testbed-baseline.js';

export interface Testbed {
  version: 1;
  testbed: string;
  instance?: string;
  target?: string;
  baseline?: string;
  /** The lab's firmware library folder (absolute). */
  firmwareDir?: string;
  /** The lock holder's credential the factory put in the description (runner/lock.ts). */
  lockCredential?: string;
  /** The factory's lock directory, when it wrote the description. */
  lockDir?: string;
  /** When the job's instance ends (epoch ms), if the factory said: nothing may last beyond it. */
  deadline?: number;
  /** How long to wait for another runner working on the testbed before refusing (the factory's runners wait). */
  lockWaitMs?: number;
  devices: DeviceSpec[];
}

/** Checks the shape of one address for its driver; returns a problem message or undefined. */
export function addressProblem(driver: DriverKind, address: string): string | undefined {
  switch (driver) {
    case 'axeos':
      try {
        const u = new URL(address);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'an axeos address is http://HOST[:PORT]';
      } catch {
        return `not a URL: ${JSON.stringify(address)} (an axeos address is http://HOST[:PORT])`;
      }
      return undefined;
    case 'cgminer':
      return /^\[?[^\s/\]]+\]?:\d{1,5}$/.test(address)
        ? undefined
        : `expected HOST:PORT, got ${JSON.stringify(address)}`;
    case 'nmminer':
      return /^[^\s/:]+(:\d{1,5})?$/.test(address)
        ? undefined
        : `expected HOST or HOST:PORT, got ${JSON.stringify(address)}`;
    case 'command':
      return undefined;
  }
}

export function parseTestbed(text: string, file: string): Testbed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ file, key: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  // The contract (shared/contracts/testbed.ts) judges the shape; the runner's rules run over the rest.
  const verdict = judge<Table>(TESTBED_DESCRIPTION, doc, { syntax: 'yaml' });
  const problems: ConfigProblem[] = verdict.problems.map((q) => ({ file, ...q }));
  const p = (key: string, message: string, hint?: string) => problems.push({ file, key, message, hint });
  const d = verdict.value;
  if (d === undefined) throw new ConfigError(problems);
  const devices: DeviceSpec[] = [];
  const names = new Set<string>();
  ((d.devices ?? []) as Array<Table | undefined>).forEach((dev, i) => {
    if (dev === undefined) return; // reported by the judge
    const k = `devices[${i}]`;
    const name = dev.name as string | undefined;
    if (name !== undefined && names.has(name)) p(`${k}.name`, `duplicate device name ${JSON.stringify(name)}`);
    else if (name !== undefined) names.add(name);
    const driver = dev.driver as DriverKind | undefined;
    const known = driver !== undefined && DRIVER_KINDS.includes(driver);
    if (driver !== undefined && !known)
      p(`${k}.driver`, `unknown driver ${JSON.stringify(driver)}`, `one of ${DRIVER_KINDS.join(', ')}`);
    const address = (dev.address as string | undefined) ?? (driver === 'command' ? '' : undefined);
    if (address === undefined) p(`${k}.address`, 'missing');
    else if (known) {
      const bad = addressProblem(driver, address);
      if (bad) p(`${k}.address`, bad);
    }
    const baseline = deviceBaseline(dev, k, p);
    if (name !== undefined && known && address !== undefined) {
      devices.push({
        name,
        driver,
        address,
        hardware: dev.hardware as string | undefined,
        software: dev.software as string | undefined,
        attributes: (dev.attributes as string[] | undefined) ?? [],
        options: (dev.options as Record<string, unknown> | undefined) ?? {},
        ...baseline,
      });
    }
  });
  const firmwareDir = firmwareDirOf(d.firmware_dir as string | undefined, p);
  const deadline = typeof d.deadline === 'string' ? Date.parse(d.deadline) : undefined;
  if (deadline !== undefined && Number.isNaN(deadline))
    p('deadline', 'must be an ISO 8601 time (when the factory ends the instance)');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    version: 1,
    testbed: d.testbed as string,
    instance: d.instance as string | undefined,
    target: d.target as string | undefined,
    baseline: d.baseline as string | undefined,
    firmwareDir,
    ...(typeof d.lock_credential === 'string' ? { lockCredential: d.lock_credential } : {}),
    ...(typeof d.lock_dir === 'string' ? { lockDir: d.lock_dir } : {}),
    ...(deadline !== undefined ? { deadline } : {}),
    ...(typeof d.lock_wait_ms === 'number' ? { lockWaitMs: d.lock_wait_ms } : {}),
    devices,
  };
}

export function loadTestbed(file: string): Testbed {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MvmError(
      'CONFIG_INVALID',
      `cannot read the testbed description ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        hint: 'pass --testbed FILE or set MVM_TESTBED to the file the factory wrote (<agent workdir>/testbed.json)',
        cause: err,
      },
    );
  }
  return parseTestbed(text, file);
}

/** The testbed's device by name; NOT_FOUND lists the ones it has. */
export function findDevice(testbed: Testbed, name: string): DeviceSpec {
  const device = testbed.devices.find((d) => d.name === name);
  if (!device) {
    throw new MvmError('NOT_FOUND', `testbed ${testbed.testbed} has no device ${JSON.stringify(name)}`, {
      hint: `devices: ${testbed.devices.map((d) => d.name).join(', ') || '(none)'}`,
    });
  }
  return device;
}

export interface DeviceSelection {
  testbed?: string;
  device?: string;
  driver?: string;
  address?: string;
  /** Driver options given on the command line (`--option key=value`). */
  options?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/** Resolves the device a command acts on; every failure says what to pass instead. */
export function selectDevice(sel: DeviceSelection): { device: DeviceSpec; testbed?: Testbed; testbedFile?: string } {
  const env = sel.env ?? process.env;
  if (sel.driver !== undefined || sel.address !== undefined) {
    if (sel.driver === undefined || sel.address === undefined) {
      throw new MvmError('USAGE', 'a device given directly needs both --driver and --address', {
        hint: 'e.g. --driver axeos --address http://192.168.1.50, or --driver cgminer --address 192.168.1.60:4028',
      });
    }
    const driver = sel.driver as DriverKind;
    if (!DRIVER_KINDS.includes(driver)) {
      throw new MvmError('USAGE', `unknown driver ${JSON.stringify(sel.driver)}`, {
        hint: `drivers: ${DRIVER_KINDS.join(', ')}`,
      });
    }
    const bad = addressProblem(driver, sel.address);
    if (bad) throw new MvmError('USAGE', `--address: ${bad}`);
    return {
      device: {
        name: sel.device ?? sel.address,
        driver,
        address: sel.address,
        attributes: [],
        options: sel.options ?? {},
      },
    };
  }
  const file = sel.testbed ?? env.MVM_TESTBED;
  if (!file) {
    throw new MvmError('USAGE', 'no device: give --testbed FILE (or set MVM_TESTBED), or --driver and --address', {
      hint: 'inside a job MVM_TESTBED is set by the agent; on a bench use --driver axeos --address http://HOST',
    });
  }
  const testbed = loadTestbed(file);
  let device: DeviceSpec | undefined;
  if (sel.device !== undefined) {
    device = findDevice(testbed, sel.device);
  } else if (testbed.devices.length === 1) {
    device = testbed.devices[0];
  } else {
    throw new MvmError(
      'USAGE',
      `testbed ${testbed.testbed} has ${testbed.devices.length} devices: name one with --device`,
      {
        hint: `devices: ${testbed.devices.map((d) => d.name).join(', ') || '(none)'}`,
      },
    );
  }
  if (sel.options && Object.keys(sel.options).length > 0)
    device = { ...device, options: { ...device.options, ...sel.options } };
  return { device, testbed, testbedFile: file };
}

// The testbed description the factory writes (MVM_TESTBED or --testbed FILE), validated with every
// problem reported, and how a command picks its device: by name, the only device, or given
// directly with --driver/--address.
import { readFileSync } from 'node:fs';
import { testbedContract } from '../shared/contracts/testbed.js';
import { ConfigError, MvmError, type ConfigProblem } from '../shared/errors.js';
import { DRIVER_KINDS, type DeviceSpec, type DriverKind } from './drivers/types.js';
import { parseDeviceBaseline, parseFirmwareDir } from './testbed-baseline.js';

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

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
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

/** Whether a problem at `outer` already says what a problem at `inner` would. */
function covers(outer: string, inner: string): boolean {
  return inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`) || outer === '(file)';
}

export function parseTestbed(text: string, file: string): Testbed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ file, key: '(file)', message: `not valid JSON: ${(err as Error).message}` }]);
  }
  const problems: ConfigProblem[] = [];
  const p = (key: string, message: string, hint?: string) => problems.push({ file, key, message, hint });
  if (!isObject(doc))
    throw new ConfigError([{ file, key: '(file)', message: 'the testbed description must be a JSON object' }]);
  if (doc.version !== 1)
    p('version', `unsupported version ${JSON.stringify(doc.version)}`, 'this runner reads version 1');
  if (typeof doc.testbed !== 'string' || doc.testbed === '') p('testbed', 'missing the testbed name');
  const devices: DeviceSpec[] = [];
  if (!Array.isArray(doc.devices)) {
    p('devices', 'missing the devices array');
  } else {
    const names = new Set<string>();
    doc.devices.forEach((d: unknown, i: number) => {
      const k = `devices[${i}]`;
      if (!isObject(d)) return p(k, 'must be an object');
      const name = typeof d.name === 'string' && d.name !== '' ? d.name : undefined;
      if (!name) p(`${k}.name`, 'missing');
      else if (names.has(name)) p(`${k}.name`, `duplicate device name ${JSON.stringify(name)}`);
      else names.add(name);
      const driver = d.driver as DriverKind;
      if (!DRIVER_KINDS.includes(driver))
        p(`${k}.driver`, `unknown driver ${JSON.stringify(d.driver)}`, `one of ${DRIVER_KINDS.join(', ')}`);
      const address = typeof d.address === 'string' ? d.address : driver === 'command' ? '' : undefined;
      if (address === undefined) p(`${k}.address`, 'missing');
      else if (DRIVER_KINDS.includes(driver)) {
        const bad = addressProblem(driver, address);
        if (bad) p(`${k}.address`, bad);
      }
      if (
        d.attributes !== undefined &&
        (!Array.isArray(d.attributes) || d.attributes.some((a) => typeof a !== 'string'))
      ) {
        p(`${k}.attributes`, 'must be an array of strings');
      }
      if (d.options !== undefined && !isObject(d.options)) p(`${k}.options`, 'must be an object');
      for (const key of ['hardware', 'software'] as const) {
        if (d[key] !== undefined && typeof d[key] !== 'string') p(`${k}.${key}`, 'must be a string');
      }
      const baseline = parseDeviceBaseline(d, k, p);
      if (name && address !== undefined) {
        devices.push({
          name,
          driver,
          address,
          hardware: d.hardware as string | undefined,
          software: d.software as string | undefined,
          attributes: (d.attributes as string[] | undefined) ?? [],
          options: (d.options as Record<string, unknown> | undefined) ?? {},
          ...baseline,
        });
      }
    });
  }
  if (doc.baseline !== undefined && typeof doc.baseline !== 'string')
    p('baseline', 'must be a string (the baseline firmware version)');
  const firmwareDir = parseFirmwareDir(doc.firmware_dir, p);
  for (const key of ['lock_credential', 'lock_dir'] as const)
    if (doc[key] !== undefined && typeof doc[key] !== 'string') p(key, 'must be a string');
  const deadline = typeof doc.deadline === 'string' ? Date.parse(doc.deadline) : undefined;
  if (doc.deadline !== undefined && (deadline === undefined || Number.isNaN(deadline)))
    p('deadline', 'must be an ISO 8601 time (when the factory ends the instance)');
  if (doc.lock_wait_ms !== undefined && !(Number.isSafeInteger(doc.lock_wait_ms) && (doc.lock_wait_ms as number) >= 0))
    p('lock_wait_ms', 'must be a whole number of milliseconds, 0 or more');
  // The contract (shared/contracts/testbed.ts) catches what the checks above do not look at.
  for (const c of testbedContract.problems(doc))
    if (!problems.some((q) => covers(q.key, c.key))) p(c.key, c.message, c.hint);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    version: 1,
    testbed: doc.testbed as string,
    instance: doc.instance as string | undefined,
    target: doc.target as string | undefined,
    baseline: doc.baseline as string | undefined,
    firmwareDir,
    ...(typeof doc.lock_credential === 'string' ? { lockCredential: doc.lock_credential } : {}),
    ...(typeof doc.lock_dir === 'string' ? { lockDir: doc.lock_dir } : {}),
    ...(deadline !== undefined && !Number.isNaN(deadline) ? { deadline } : {}),
    ...(typeof doc.lock_wait_ms === 'number' ? { lockWaitMs: doc.lock_wait_ms } : {}),
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

// The runner's side of the testbed lock: before a command changes a device (flash, control,
// restore, test), find the testbed it belongs to — named by the description, or, for a device
// given with --address, by the addresses the factory lists in the lock directory — and refuse,
// naming the holder, unless the caller holds the lock (the job's or check's description carries
// its credential; a person presents the reservation's credential in MVM_LOCK_CREDENTIAL).
// `--ignore-lock` goes ahead anyway and leaves a note the factory journals. A runner allowed to go
// on then HOLDS the testbed's devices until it exits (shared/device-hold.ts): a second runner is
// refused naming the first, whatever credential it has — `--ignore-lock` included — unless its
// description tells it to wait (the factory's runners wait for a person's to finish).
import { userInfo } from 'node:os';
import { holdDevices, type DeviceHold } from '../shared/device-hold.js';
import { MvmError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import {
  credentialHash,
  readLockFile,
  readLockFiles,
  testbedLockDir,
  writeOverride,
  type TestbedLockFile,
} from '../shared/testbed-locks.js';
import type { DeviceSpec } from './drivers/types.js';

export interface LockCheck {
  /** The runner command, for messages and the journal: "control", "flash", … */
  command: string;
  /** The testbed named by the description, when there is one. */
  testbed?: string;
  /** The devices acted on (their addresses find the testbed when no description names it). */
  devices: readonly DeviceSpec[];
  /** From the description (jobs, the factory's checks) or MVM_LOCK_CREDENTIAL (a reservation). */
  credential?: string;
  ignoreLock?: boolean;
  /** The lock directory the description names (else $MVM_TESTBED_LOCKS or the default). */
  dir?: string;
  /** How long to wait for another runner working on the testbed (the description's lock_wait_ms; default 0). */
  waitMs?: number;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

/** Compares addresses as people write them: case, a trailing slash and the default port do not matter. */
export function sameAddress(a: string, b: string): boolean {
  return normalAddress(a) === normalAddress(b);
}

function normalAddress(s: string): string {
  const t = s.trim().toLowerCase().replace(/\/+$/, '');
  return t.replace(/^http:\/\/([^/:]+):80$/, 'http://$1');
}

function owningTestbed(dir: string, c: LockCheck): TestbedLockFile | undefined {
  if (c.testbed !== undefined) return readLockFile(dir, c.testbed);
  const addresses = c.devices.map((d) => d.address).filter((a) => a !== '');
  return readLockFiles(dir).find((f) =>
    f.devices.some((d) => d.address !== null && addresses.some((a) => sameAddress(a, d.address!))),
  );
}

/** The testbed a lock check found, and on whose behalf the runner acts on it. */
interface Allowed {
  testbed?: string;
  onBehalf?: string;
}

/** Throws CONFLICT naming the holder when someone else holds the testbed. */
function assertTestbedLock(c: LockCheck, dir: string, env: NodeJS.ProcessEnv): Allowed {
  const f = owningTestbed(dir, c);
  if (!f || !f.held) return { testbed: f?.testbed };
  const credential = c.credential ?? env.MVM_LOCK_CREDENTIAL;
  if (credential && credentialHash(credential) === f.held.credential_sha256)
    return { testbed: f.testbed, onBehalf: f.held.description };
  if (c.ignoreLock) {
    const user = userInfo().username;
    const noted = writeOverride(dir, {
      testbed: f.testbed,
      user,
      command: c.command,
      held: f.held.description,
      at: new Date().toISOString(),
      pid: process.pid,
    });
    c.log?.warn(
      { testbed: f.testbed, held: f.held.description, journalled: noted },
      `--ignore-lock: acting on testbed ${f.testbed} although it is ${f.held.description}`,
    );
    return { testbed: f.testbed, onBehalf: `--ignore-lock by ${user} while it is ${f.held.description}` };
  }
  const how = credential ? "the credential given (MVM_LOCK_CREDENTIAL) is not the holder's" : 'no credential was given';
  throw new MvmError(
    'CONFLICT',
    `testbed ${f.testbed} is ${f.held.description}: refusing \`mvm runner ${c.command}\` (${how})`,
    {
      hint:
        f.held.kind === 'reservation'
          ? `only ${f.held.owner}'s reservation may use it: its holder sets MVM_LOCK_CREDENTIAL to the credential \`mvm testbeds reserve\` printed. In an emergency: --ignore-lock (journalled)`
          : 'wait until it is free (`mvm testbeds show NAME`), or reserve it. In an emergency: --ignore-lock (journalled)',
    },
  );
}

/**
 * The lock check, then the hold: refuses (CONFLICT naming the holder) when the testbed is held by
 * someone else in the factory's lock table, or when another runner is working on its devices now.
 * The hold lasts until release() or the process's exit. A device of no known testbed is held by
 * its address.
 */
export async function holdTestbedLock(c: LockCheck): Promise<DeviceHold> {
  const env = c.env ?? process.env;
  const dir = c.dir ?? testbedLockDir(env);
  const allowed = assertTestbedLock(c, dir, env);
  const addresses = c.devices
    .map((d) => d.address)
    .filter((a) => a !== '')
    .map(normalAddress)
    .sort();
  const key = c.testbed ?? allowed.testbed ?? (addresses.length > 0 ? `address:${addresses.join(',')}` : undefined);
  // A device named by nothing (no testbed, no address) cannot be told from another: nothing to hold.
  if (key === undefined) return { testbed: '', release: async () => {} };
  return holdDevices(
    dir,
    {
      pid: process.pid,
      user: userInfo().username,
      command: c.command,
      testbed: key,
      since: new Date().toISOString(),
      ...(allowed.onBehalf !== undefined ? { on_behalf: allowed.onBehalf } : {}),
    },
    {
      env,
      waitMs: c.waitMs,
      signal: c.signal,
      onWait: (h) =>
        c.log?.info(
          { testbed: key, holder: h ?? null },
          `waiting for testbed ${key}: another runner is working on it (${h ? `pid ${h.pid}, ${h.user}: ${h.command}` : 'it did not say who'})`,
        ),
    },
  );
}

// The lock directory: the factory mirrors its lock table there, one world-readable JSON file per
// configured testbed, so that `mvm runner` (run by anyone on the lab host) knows who holds a
// testbed and which device addresses belong to one. A holder proves itself with a credential the
// factory derived for its lock; the file carries only its SHA-256. A runner told to go ahead
// anyway (`--ignore-lock`) leaves a note in `overrides/`, which the factory journals.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestbedLockFile {
  version: 1;
  testbed: string;
  /** Null while the testbed is free. */
  held: null | {
    kind: 'job' | 'reservation' | 'check' | 'restore';
    owner: string;
    /** What holds it, for people: "reserved by alice until …". */
    description: string;
    since: string;
    expires_at: string | null;
    credential_sha256: string;
  };
  devices: Array<{ name: string; driver: string; address: string | null }>;
  /** The factory process that wrote it. */
  pid: number;
}

export interface LockOverride {
  testbed: string;
  user: string;
  command: string;
  held: string;
  at: string;
  pid: number;
}

/** `$MVM_TESTBED_LOCKS`, else `<tmp>/mvm-testbed-locks`: the factory and every runner of the host must agree. */
export function testbedLockDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MVM_TESTBED_LOCKS ?? join(tmpdir(), 'mvm-testbed-locks');
}

export const lockFileName = (testbed: string) => `${testbed.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`;

export const credentialHash = (credential: string) => createHash('sha256').update(credential).digest('hex');

export function readLockFile(dir: string, testbed: string): TestbedLockFile | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, lockFileName(testbed)), 'utf8')) as TestbedLockFile;
  } catch {
    return undefined;
  }
}

export function readLockFiles(dir: string): TestbedLockFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: TestbedLockFile[] = [];
  for (const n of names) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as TestbedLockFile);
    } catch {
      // being replaced, or not ours: skip
    }
  }
  return out;
}

/** Replaces the testbed's file atomically (readers never see half of it). */
export function writeLockFile(dir: string, f: TestbedLockFile): void {
  const file = join(dir, lockFileName(f.testbed));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(f) + '\n', { mode: 0o644 });
  renameSync(tmp, file);
}

export const overridesDir = (dir: string) => join(dir, 'overrides');

/** Leaves a note of a runner that ignored the lock, for the factory's journal. Best effort. */
export function writeOverride(dir: string, o: LockOverride): boolean {
  try {
    mkdirSync(overridesDir(dir), { recursive: true });
    writeFileSync(join(overridesDir(dir), `${Date.now()}-${process.pid}.json`), JSON.stringify(o) + '\n', {
      mode: 0o644,
      flag: 'wx',
    });
    return true;
  } catch {
    return false;
  }
}

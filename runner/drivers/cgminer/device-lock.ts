// Avalons answer one request at a time. Within a process the per-device queue serialises
// requests; this lock file does the same across processes (a job script calling `mvm runner
// telemetry` while `mvm runner test` samples the same device). A lock whose owner died is taken over.
import { mkdirSync, openSync, closeSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../../../shared/process-tree.js';
import { sleep } from '../../../shared/sleep.js';

export function lockDir(): string {
  return process.env.MVM_LOCK_DIR ?? join(tmpdir(), 'mvm-device-locks');
}

function lockFile(key: string): string {
  return join(lockDir(), `${key.replace(/[^A-Za-z0-9.-]+/g, '_')}.lock`);
}

function tryTake(file: string): boolean {
  try {
    const fd = openSync(file, 'wx', 0o600);
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    let owner = NaN;
    try {
      owner = Number(readFileSync(file, 'utf8'));
    } catch {
      return false; // released meanwhile: try again
    }
    // Requests for one device are queued within a process, so a lock in our own name is stale too.
    if (Number.isInteger(owner) && owner > 0 && (owner === process.pid || !isAlive(owner))) {
      try {
        unlinkSync(file);
      } catch {
        /* someone else took it over first */
      }
    }
    return false;
  }
}

/**
 * Runs `fn` holding the device's lock. Waits for it until `deadline` (ms since epoch); past that,
 * runs anyway rather than fail — the lock is a courtesy to the device, not a correctness guarantee.
 */
export async function withDeviceLock<T>(
  key: string,
  deadline: number,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const file = lockFile(key);
  try {
    mkdirSync(lockDir(), { recursive: true, mode: 0o700 });
  } catch {
    return fn();
  }
  let held = false;
  try {
    while (!(held = tryTake(file)) && Date.now() < deadline) await sleep(15, signal);
  } catch (err) {
    // An unusable lock folder (permissions, read-only) must not stop the request itself.
    if ((err as { code?: string }).code === 'ABORTED') throw err;
    held = false;
  }
  try {
    return await fn();
  } finally {
    if (held) {
      try {
        unlinkSync(file);
      } catch {
        /* already gone */
      }
    }
  }
}

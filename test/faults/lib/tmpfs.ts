// A tiny tmpfs for disk-full tests: a real filesystem that answers ENOSPC once its few KiB are
// used, mounted on a test's own folder and unmounted at teardown. Mounting needs root (or
// CAP_SYS_ADMIN); `tmpfsUnavailable()` says why it cannot be done, for the test to skip.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let probed: string | undefined | null = null;

/** Why a tmpfs cannot be mounted here, or undefined when it can (probed once). */
export function tmpfsUnavailable(): string | undefined {
  if (probed !== null) return probed;
  const dir = mkdtempSync(join(tmpdir(), 'mvm-tmpfs-probe-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) spawnSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
  probed =
    r.status === 0
      ? undefined
      : `cannot mount a tmpfs (${(r.stderr || r.error?.message || '').trim()}): run as root to test a full disk`;
  return probed;
}

/** Mounts a tmpfs of `bytes` on `dir` (created if missing); unmounted (and removed) at teardown. */
export function mountTmpfs(t: { teardown(fn: () => void): void }, dir: string, bytes: number): string {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs on ${dir} failed: ${r.stderr}`);
  t.teardown(() => {
    // Lazy: a process the test failed to stop must not keep the mount (and the test) hanging.
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * Fills the filesystem of `dir` to the last byte with a file `dir/filler`, big writes first then
 * smaller ones; returns the file (remove it to free the space again).
 */
export function fillUp(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'a');
  try {
    for (let size = 1 << 20; size >= 1; size >>= 2) {
      const block = Buffer.alloc(size, 0x5a);
      try {
        for (;;) writeSync(fd, block);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

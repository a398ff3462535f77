// System users for tests that run tasks as a task user (needs root: the test machine runs as root).
import { execFileSync } from 'node:child_process';
import { lookupUser, type PasswdEntry } from '../../../shared/passwd.js';

export const isRoot = process.getuid?.() === 0;

/** The user, created (system user, no home, no login shell) when it does not exist yet. */
export function ensureUser(name: string): PasswdEntry {
  const found = lookupUser(name);
  if (found) return found;
  try {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
      stdio: 'ignore',
    });
  } catch {
    /* another test created it meanwhile: looked up again below */
  }
  const made = lookupUser(name);
  if (!made) throw new Error(`cannot create the test user ${name}`);
  return made;
}

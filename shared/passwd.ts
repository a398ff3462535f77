// Looking up a user in the password database (getent, so NSS users count too).
import { execFileSync } from 'node:child_process';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** A user name as useradd accepts it (no path or shell characters). */
export const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

/** The user's entry, or undefined when there is no such user. */
export function lookupUser(name: string): PasswdEntry | undefined {
  if (!USER_NAME.test(name)) return undefined;
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).split('\n')[0];
  } catch {
    return undefined;
  }
  const [user, , uid, gid, , home] = line.split(':');
  const e = { name: user, uid: Number(uid), gid: Number(gid), home: home || '/' };
  return Number.isInteger(e.uid) && Number.isInteger(e.gid) ? e : undefined;
}

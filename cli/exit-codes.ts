// The exit statuses of `mvm`, distinct so that a CI system can tell a failed test from a lab that
// could not be reached (doc/cli.md, "Exit statuses"):
//   0 success · 1 the work failed (a job failed, a config is invalid) · 2 bad usage
//   3 infrastructure: a server unreachable, timing out or failing (5xx)
//   4 authentication: a token missing its rights or refused (401/403)
//   130 interrupted (SIGINT/SIGTERM), as shells report a Ctrl-C
import { ApiError, MvmError } from '../shared/errors.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, infrastructure: 3, auth: 4, interrupted: 130 } as const;

/** The errors on `err`'s cause chain, outermost first. */
function chain(err: unknown): unknown[] {
  const seen: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && !seen.includes(e); e = (e as { cause?: unknown }).cause) {
    seen.push(e);
  }
  return seen;
}

export function exitCodeFor(err: unknown): number {
  const errors = chain(err);
  const first = errors[0];
  if (first instanceof MvmError && first.code === 'USAGE') return EXIT.usage;
  if (first instanceof MvmError && first.code === 'ABORTED') return EXIT.interrupted;
  for (const e of errors) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return EXIT.auth;
    if (e instanceof MvmError && e.code === 'FORBIDDEN') return EXIT.auth;
  }
  for (const e of errors) {
    if (e instanceof ApiError && (e.status === undefined || e.status >= 500)) return EXIT.infrastructure;
    if (e instanceof MvmError && (e.code === 'NETWORK' || e.code === 'TIMEOUT')) return EXIT.infrastructure;
  }
  return EXIT.failed;
}

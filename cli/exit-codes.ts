// The exit statuses of `mvm`, distinct so that a CI system can tell a failed test from a lab that
// could not be reached (doc/cli.md, "Exit statuses"):
//   0 success · 1 the work failed (a job failed, a config is invalid) · 2 bad usage
//   3 infrastructure: a server unreachable, timing out or failing (5xx); not a device error
//     (a device that stops answering in a test is the test's verdict: 1)
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
  if (!(err instanceof MvmError)) return EXIT.failed;
  if (err.code === 'USAGE') return EXIT.usage;
  if (err.code === 'ABORTED') return EXIT.interrupted;
  const errors = chain(err);
  // A refused token is an authentication failure however it was reported (a factory's
  // CONFIG_INVALID "refused the factory token" included).
  if (err.code === 'FORBIDDEN' || errors.some((e) => e instanceof ApiError && (e.status === 401 || e.status === 403)))
    return EXIT.auth;
  if (err.code === 'NETWORK' || err.code === 'TIMEOUT') return EXIT.infrastructure;
  // An API's own failure (5xx, or no answer) as the outermost story; a device error that merely
  // has a connection error as its cause is the work failing (exit 1), like a failed check.
  const api = errors.find((e): e is ApiError => e instanceof ApiError);
  if (err.code === 'API_ERROR' && api && (api.status === undefined || api.status >= 500)) return EXIT.infrastructure;
  return EXIT.failed;
}

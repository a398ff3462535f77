// The lock directory on an SSH testbed's host: the factory mirrors the testbed's lock file there
// (shared/testbed-locks.ts), so the runners on that host — the factory's, the jobs', and people's
// `mvm runner` — see who holds it and share its device hold; the notes left there by runners run
// with --ignore-lock are brought back for the journal.
import type { LockOverride, TestbedLockFile } from '../../../shared/testbed-locks.js';
import { lockFileName } from '../../../shared/testbed-locks.js';
import type { SshConnection } from './connection.js';
import { SshError } from './errors.js';
import { shellScript } from './quote.js';
import { PUBLISH_LOCK } from './remote-scripts.js';

/** Where runners look on a host whose environment sets neither MVM_TESTBED_LOCKS nor TMPDIR. */
export const DEFAULT_REMOTE_LOCK_DIR = '/tmp/mvm-testbed-locks';

/** Writes the testbed's lock file on the host; returns the override notes found there (and removed). */
export async function publishRemoteLock(
  conn: SshConnection,
  dir: string,
  file: TestbedLockFile,
  signal?: AbortSignal,
): Promise<LockOverride[]> {
  const r = await conn.exec(shellScript(PUBLISH_LOCK, 'mvm-lock', [dir, lockFileName(file.testbed)]), {
    stdin: JSON.stringify(file) + '\n',
    signal,
    timeoutMs: 30_000,
  });
  if (r.code !== 0)
    throw new SshError('remote', conn.destination, `cannot write the lock file in ${dir}: ${r.stderr.trim()}`, {
      retryable: true,
    });
  const out: LockOverride[] = [];
  for (const line of r.stdout.split('\n')) {
    try {
      if (line.trim() !== '') out.push(JSON.parse(line) as LockOverride);
    } catch {
      // half-written or not a note
    }
  }
  return out;
}

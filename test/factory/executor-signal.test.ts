// Executor calls that cannot be cancelled kept a drain waiting past its force
// signal: stopping an agent that ignores SIGTERM waited out the whole stop_grace. Every executor
// method takes a signal; here a real process group that ignores SIGTERM, a 10-minute grace, and a
// signal that fires: stop() gives up waiting at once (the group is stopped by the next pass).
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalExecutor } from '../../factory/executor/local.js';
import { silentLogger } from '../../shared/log.js';
import { groupAlive } from '../../shared/process-tree.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

t.test('LocalExecutor.stop() ends when its signal fires, whatever the grace', async (t) => {
  const dir = tempDir(t, 'mvm-exsig-');
  const ex = new LocalExecutor({ root: join(dir, 'instances'), command: ['true'], log: silentLogger() });
  const child = spawn('/bin/bash', ['-c', "trap '' TERM; while :; do sleep 0.1; done"], {
    detached: true,
    stdio: 'ignore',
  });
  const pgid = child.pid!;
  t.teardown(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  // SIGTERM must find the trap set (bash may not have run `trap` yet right after the spawn): the
  // kernel's ignored-signals mask of the process says when it is.
  const ignoresTerm = () => {
    const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pgid}/status`, 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << 14n)) !== 0n;
  };
  await waitFor(() => groupAlive(pgid) && ignoresTerm(), 'the group to run, ignoring SIGTERM');
  const abort = new AbortController();
  let settled: string | undefined;
  ex.stop('01TESTINSTANCE', { pid: pgid, pgid, startedAt: Date.now() }, 600_000, abort.signal).then(
    () => (settled = 'resolved'),
    (err) => (settled = `rejected: ${(err as Error).message}`),
  );
  await waitFor(() => groupAlive(pgid), 'still running after SIGTERM');
  abort.abort();
  await waitFor(() => settled !== undefined, 'stop() to end with its signal', 20_000, 20);
  t.match(settled, /^rejected: .*abort/i, 'it gave up waiting: nothing recorded, the next pass stops it');
});

// Stopping a process group that will not go: stopProcessGroup used to report
// `killed` after SIGKILL without checking, and swallowed EPERM. A real group whose signals cannot
// be delivered (EPERM, as for another user's processes) is reported `stuck` with the reason, and
// is not reported stopped while it lives; then stopped for real.
import t from 'tap';
import { spawn } from 'node:child_process';
import { groupAlive, stopProcessGroup } from '../../shared/process-tree.js';
import { waitFor } from '../helpers/mvm-process.js';

t.test('a group that cannot be signalled is stuck, not killed', async (t) => {
  const child = spawn('/bin/sh', ['-c', 'sleep 600 & sleep 600; wait'], { detached: true, stdio: 'ignore' });
  const pgid = child.pid!;
  t.teardown(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  await waitFor(() => groupAlive(pgid), 'the group to run');
  const denied = await stopProcessGroup(pgid, 200, 20, { killWaitMs: 300, signal: () => 'EPERM' });
  t.equal(denied.outcome, 'stuck', 'reported stuck');
  t.match(denied.reason, /may not be signalled \(EPERM/);
  t.ok(groupAlive(pgid), 'and it does still run');
  const real = await stopProcessGroup(pgid, 2000);
  t.match(real.outcome, /^(terminated|killed)$/);
  t.notOk(groupAlive(pgid), 'gone for real');
});

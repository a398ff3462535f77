// A restore runner orphaned by a factory crash: it ran on beside the one the
// restarted factory started, both driving the same device. The factory now marks its runners and,
// at start, stops those a previous factory on the same folder left running, before starting anew.
import t from 'tap';
import Database from 'better-sqlite3';
import { waitFor } from '../helpers/mvm-process.js';
import { liveWithCmdline } from './lib/procs.js';
import { startFaultLab } from './lib/stack.js';

t.test('a runner left by a SIGKILLed factory is stopped at the next start, journalled', async (t) => {
  const marker = `slow-runner-${process.pid}`;
  const lab = await startFaultLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    healthKeys: '[health]\ntimeout = "10m"\nrestore_timeout = "10m"',
    factoryKeys: `runner_command = ["/bin/bash", "-c", "sleep 600; true", "${marker}"]`,
  });
  const first = await lab.factory({ wait: false });
  const [old] = await waitFor(
    () => {
      const running = liveWithCmdline(marker);
      return running.length > 0 ? running : undefined;
    },
    'the check (restore) runner to start',
    60_000,
  );
  await first.kill9();
  t.ok(liveWithCmdline(marker).includes(old), 'the runner outlived its factory');
  const second = await lab.factory({ wait: false });
  await waitFor(() => !liveWithCmdline(marker).includes(old), 'the orphan stopped', 30_000);
  await waitFor(
    () => {
      const db = new Database(lab.dbFile, { readonly: true });
      try {
        return (
          db
            .prepare("select 1 from events where kind = 'runner-orphan-stopped' and message like ?")
            .get(`%pid ${old}%`) !== undefined
        );
      } finally {
        db.close();
      }
    },
    'the journal entry',
    10_000,
  );
  t.pass('journalled');
  await second.stop();
  await waitFor(() => liveWithCmdline(marker).length === 0, 'runners stopped with the factory', 30_000);
  await lab.noLeaks(t);
});

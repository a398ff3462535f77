// A buildomat script that writes to /work/output failed with "No such file or
// directory" and nothing said why. On an mvm agent the job's folder stands for /work only in the
// task's cwd, the output rules and MVM_* paths: the agent now says so before the script runs, and
// the same job written with $MVM_OUTPUT_DIR works.
import t from 'tap';
import { waitFor } from '../helpers/mvm-process.js';
import { liveRows } from '../factory/fixture.js';
import { startFaultLab } from './lib/stack.js';

t.test('a script naming /work is told, before it runs, what to use instead', async (t) => {
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const factory = await lab.factory();
  const ported = await lab.submitTasks('bitaxe', [
    { name: 'ported', script: 'cat /work/output/report.txt 2>/dev/null; echo after' },
  ]);
  await lab.waitJob(ported, ['completed', 'failed'], 60_000);
  const events = await lab.events(ported);
  const note = events.findIndex(
    (e) =>
      e.stream === 'worker' &&
      /this script names \/work, which is not the job's folder .*use \$MVM_WORK_DIR and \$MVM_OUTPUT_DIR/.test(
        e.payload,
      ),
  );
  const first = events.findIndex((e) => e.stream === 'stdout');
  t.ok(note >= 0, 'the note is in the job log');
  t.ok(note < first, 'before the script runs');
  const fixed = await lab.submitTasks('bitaxe', [{ name: 'fixed', script: 'echo hi > "$MVM_OUTPUT_DIR/x.txt"' }]);
  t.equal((await lab.waitJob(fixed, ['completed', 'failed'], 60_000)).state, 'completed', '$MVM_OUTPUT_DIR works');
  t.notOk(
    (await lab.events(fixed)).some((e) => /this script names \/work/.test(e.payload)),
    'no note for it',
  );
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instances destroyed', 30_000, 100);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

// Two factories on one database: the second used to start, and the two fought
// over every instance ("illegal transition running -> running"); with the API off nothing stopped
// it. Now the second refuses to start, naming the first one's pid; a factory killed with SIGKILL
// leaves a stale lock the next start takes over.
import t from 'tap';
import { startFaultLab } from './lib/stack.js';

t.test('a second factory on the same database refuses to start, naming the first', async (t) => {
  const lab = await startFaultLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    apiKeys: '[api]\nlisten = "off"',
  });
  const first = await lab.factory();
  const second = await lab.factory({ wait: false });
  t.equal(await second.exited, 1, 'the second factory exits 1');
  const said = [...second.stdout, ...second.stderr].join('\n');
  t.match(
    said,
    new RegExp(`another factory \\(pid ${first.pid}, since .*\\) runs on the database`),
    'naming the holder',
  );
  t.notMatch(said, /mvm factory started/);

  // The first, killed: its lock is stale and the next start takes it over.
  await first.kill9();
  const third = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [{ name: 'ok', script: 'echo ok' }]);
  t.equal((await lab.waitJob(job, ['completed', 'failed'], 60_000)).state, 'completed', 'the restarted factory works');
  t.equal(await third.stop(), 0);
  await lab.noLeaks(t);
});

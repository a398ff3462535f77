// Restart recovery while an instance is torn down, and when an agent dies with the factory down.
import t from 'tap';
import { processAlive as isAlive } from './fixture.js';
import { allRows } from './fixture.js';
import { waitFor } from '../helpers/mvm-process.js';
import { crashAt, recover } from './recovery.js';
import { startLab, type Lab } from './fixture.js';
import Database from 'better-sqlite3';

let lab: Lab;
t.before(async () => {
  lab = await startLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    serverArgs: ['--lease-timeout', '2s'],
  });
});

for (const point of ['after-mark-destroying', 'after-stop-agent', 'after-delete-worker']) {
  t.test(`${point}: the next pass finishes destroying`, async (t) => {
    const c = await crashAt(t, lab, point, true);
    t.match(c.rows, [{ state: 'destroying' }]);
    t.equal((await lab.job(c.job)).state, 'completed', 'the job itself was over');
    await recover(t, lab, c);
    t.match(allRows(c.dbFile), [{ state: 'destroyed', failure: null }]);
  });
}

t.test('after-mark-destroyed: the testbed is free and takes the next job', async (t) => {
  const c = await crashAt(t, lab, 'after-mark-destroyed', true);
  t.match(c.rows, [{ state: 'destroyed' }]);
  await recover(t, lab, c);
});

t.test('an agent that died while the factory was down: destroyed, testbed flagged, job failed', async (t) => {
  const c = await crashAt(t, lab, 'after-mark-running', false);
  t.equal(c.liveAgents.length, 1);
  process.kill(-c.liveAgents[0], 'SIGKILL');
  await waitFor(() => !isAlive(c.liveAgents[0]), 'the agent to be gone');
  await recover(t, lab, c, { expectJob: 'failed' });
  t.match(allRows(c.dbFile), [{ state: 'destroyed', reason: 'agent died', failure: /agent process ended/ }]);
  const db = new Database(c.dbFile, { readonly: true });
  t.teardown(() => db.close());
  // Health checks are off in these fixtures, so the check after the failure passes at once: the journal shows both.
  const kinds = (
    db.prepare("select kind, message from events where testbed = 'gamma-1' order by id").all() as Array<{
      kind: string;
      message: string;
    }>
  ).map((e) => `${e.kind}: ${e.message}`);
  const unknown = kinds.findIndex((k) => /^health-unknown: infrastructure failure: agent died/.test(k));
  t.ok(unknown >= 0, 'the testbed became unknown: agent died');
  t.ok(
    kinds.slice(unknown).some((k) => k.startsWith('check-passed')),
    'and was checked before it took the next job',
  );
});

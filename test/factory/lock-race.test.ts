// Jobs and people race for the same testbeds: rounds of parallel reservations from three users
// while a real factory allocates a queue of jobs to the same testbeds. No testbed ever has two
// holders — checked round by round (at most one reservation wins) and over the whole run from the
// factory's journal, where every take and every release of a testbed is recorded in order.
import t from 'tap';
import Database from 'better-sqlite3';
import { waitFor } from '../helpers/mvm-process.js';
import { factoryApi, startFactory, startLab } from './fixture.js';

const TAKES = new Set(['created', 'reserved', 'check-started']);
const RELEASES = new Set([
  'destroyed',
  'released',
  'reservation-expired',
  'check-passed',
  'check-failed',
  'health-bad',
  'check-ignored',
  'check-interrupted',
]);

t.test('parallel reservations and the factory loop never give a testbed two holders', async (t) => {
  const testbeds = ['race-1', 'race-2', 'race-3'];
  const lab = await startLab(t, { testbeds: testbeds.map((name) => ({ name, targets: ['bitaxe'] })) });
  const p = await startFactory(lab);
  t.teardown(() => p.stop());
  const api = await factoryApi(p, lab.dbFile);
  const users: Record<string, string> = {};
  for (const u of ['ann', 'ben', 'cat'])
    users[u] = (await api.call('POST', '/v1/users', { body: { name: u } })).body.token;
  await waitFor(
    async () => (await api.call('GET', '/v1/testbeds')).body.every((x: { health: string }) => x.health === 'good'),
    'testbeds checked',
  );

  const jobs = await Promise.all(
    Array.from({ length: 12 }, (_, i) => lab.submit('bitaxe', `sleep 0.${(i % 3) + 1}; echo job ${i}`)),
  );
  let wins = 0;
  let conflicts = 0;
  for (let round = 0; round < 15; round++) {
    const attempts = testbeds.flatMap((tb) =>
      Object.entries(users).flatMap(([who, token]) => [0, 1].map(() => ({ tb, who, token }))),
    );
    const results = await Promise.all(
      attempts.map(async (a) => ({
        ...a,
        r: await api.call('POST', `/v1/testbeds/${a.tb}/reservation`, {
          token: a.token,
          body: { ttl: '1m', reason: `round ${round}` },
        }),
      })),
    );
    for (const tb of testbeds) {
      const won = results.filter((x) => x.tb === tb && x.r.status === 201);
      t.ok(won.length <= 1, `round ${round}, ${tb}: ${won.length} winner(s)`);
      for (const x of results.filter((y) => y.tb === tb && y.r.status !== 201)) {
        t.equal(x.r.status, 409, 'a loser is told it is taken');
        conflicts++;
      }
      for (const w of won) {
        wins++;
        const rel = await api.call('DELETE', `/v1/testbeds/${tb}/reservation`, { token: w.token });
        t.equal(rel.status, 200, 'the winner releases');
      }
    }
  }
  for (const j of jobs)
    t.equal((await lab.waitJob(j, ['completed', 'failed'], 60_000)).state, 'completed', `job ${j} ran`);
  t.ok(wins > 0 && conflicts > 0, `${wins} reservations won, ${conflicts} refused`);

  // The last instances are destroyed a pass after their jobs complete.
  await waitFor(
    async () => (await api.call('GET', '/v1/testbeds')).body.every((x: { free: boolean }) => x.free),
    'every testbed free',
  );
  const db = new Database(lab.dbFile, { readonly: true });
  t.teardown(() => db.close());
  const events = db
    .prepare('select id, testbed, kind, message from events where testbed is not null order by id')
    .all() as Array<{ testbed: string; kind: string; message: string }>;
  const holder = new Map<string, string>();
  let takes = 0;
  const overlaps: string[] = [];
  for (const e of events) {
    if (TAKES.has(e.kind)) {
      takes++;
      if (holder.has(e.testbed))
        overlaps.push(`${e.testbed}: ${e.kind} (${e.message}) while held by ${holder.get(e.testbed)}`);
      holder.set(e.testbed, `${e.kind}: ${e.message}`);
    } else if (RELEASES.has(e.kind)) holder.delete(e.testbed);
  }
  t.same(overlaps, [], `no overlapping holders over ${takes} takes`);
  t.ok(takes >= 12 + wins, 'every job and every reservation took its testbed');
  t.equal(
    (db.prepare('select count(*) n from locks').get() as { n: number }).n,
    0,
    'nothing holds a testbed at the end',
  );
});

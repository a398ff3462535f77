// The event log's model on a real SQLite file: batches stored in order with many rows per
// statement, the follow page's JSON text equal to serialising the objects, and the fast time
// parsing and formatting equal to Date's.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../shared/db.js';
import { projectPath } from '../../shared/paths.js';
import type { ServerContext } from '../../server/context.js';
import { schema } from '../../server/db/schema.js';
import { INSERT_ROWS } from '../../server/model/event-statements.js';
import {
  addEvents,
  isoTime,
  isResentBatch,
  listEvents,
  listEventsJson,
  remoteTime,
  type NewEvent,
} from '../../server/model/events.js';

function eventsDb(t: Test): ServerContext {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-events-'));
  const opened = openDb(join(dir, 'server.sqlite'), schema, { migrationsFolder: projectPath('server', 'migrations') });
  t.teardown(() => {
    opened.close();
    rmSync(dir, { recursive: true, force: true });
  });
  opened.sqlite.pragma('foreign_keys = OFF'); // a job row without its owner and target is enough here
  opened.sqlite
    .prepare(
      `INSERT INTO jobs (id, owner, name, target, target_id, output_rules, tags, input_names, waiting, time_submit)
       VALUES ('j1', 'u', 'n', 't', 't', '[]', '{}', '[]', 0, 0)`,
    )
    .run();
  let now = Date.parse('2026-12-05T03:00:00.000Z');
  return { sqlite: opened.sqlite, db: opened.db, now: () => (now += 7) } as unknown as ServerContext;
}

const workerEvent = (i: number): NewEvent => ({
  stream: i % 3 === 0 ? 'stderr' : 'stdout',
  payload: ['plain', 'quote " and \\ backslash', 'tab\tand\u0001control', 'ünïcödé ✓ 🚀', '', '\u2028'][i % 6] + i,
  task: i % 5 === 0 ? null : 0,
  timeRemote: remoteTime(`2026-12-05T02:59:${String(10 + (i % 50)).padStart(2, '0')}.${String(i).padStart(6, '0')}Z`),
});

t.test('a batch larger than one INSERT is stored in order, numbered from 1', async (t) => {
  const ctx = eventsDb(t);
  for (const n of [1, INSERT_ROWS - 1, INSERT_ROWS, INSERT_ROWS * 3 + 5, 1000]) {
    const before = listEvents(ctx, 'j1', 1, 100_000).length;
    const batch = Array.from({ length: n }, (_, i) => workerEvent(before + i));
    addEvents(ctx, 'j1', batch);
    const stored = listEvents(ctx, 'j1', before + 1, 100_000);
    t.equal(stored.length, n, `${n} events stored`);
    t.same(
      stored.map((e) => e.seq),
      batch.map((_, i) => before + i + 1),
      'seq follows on',
    );
    t.same(
      stored.map((e) => e.payload),
      batch.map((e) => e.payload),
      'payloads in order',
    );
    t.ok(isResentBatch(ctx, 'j1', batch), 'the same batch again is recognised as resent');
    t.notOk(isResentBatch(ctx, 'j1', batch.slice(0, -1)), 'a prefix of it is not');
  }
  t.equal(
    (ctx.sqlite.prepare("SELECT event_seq AS s FROM jobs WHERE id = 'j1'").get() as { s: number }).s,
    listEvents(ctx, 'j1', 1, 100_000).length,
  );
});

t.test('the follow page as JSON text is what serialising the events gives', async (t) => {
  const ctx = eventsDb(t);
  addEvents(ctx, 'j1', [{ stream: 'control', payload: 'job assigned' }]);
  addEvents(
    ctx,
    'j1',
    Array.from({ length: 300 }, (_, i) => workerEvent(i)),
  );
  const odd = [-1.5, -1000, -86_400_001, 0, 999.9996, 1_733_369_000_999.9999, 253_402_300_799_999];
  addEvents(
    ctx,
    'j1',
    odd.map((timeRemote, i) => ({
      stream: 'stdout',
      payload: [
        Array.from({ length: 32 }, (_, c) => String.fromCharCode(c)).join(''),
        '\u007f\u0080\u2028\u2029',
        '\ud800 lone surrogate',
        '{"looks":"like json"}',
        '</script>',
        'null',
        '',
      ][i],
      task: i,
      timeRemote,
    })),
  );
  for (const [minseq, limit] of [
    [1, 1000],
    [2, 10],
    [150, 1000],
    [302, 1000],
    [1, 5000],
  ]) {
    const page = listEventsJson(ctx, 'j1', minseq, limit);
    const evs = listEvents(ctx, 'j1', minseq, limit);
    t.equal(page.count, evs.length);
    t.equal(page.json, JSON.stringify(evs), `minseq ${minseq} limit ${limit}`);
  }
});

t.test('isoTime and remoteTime agree with Date', async (t) => {
  const times = [
    0, 1, 999.9, 1_733_369_000_123.456, 1_733_369_000_999.999, 253_402_300_799_999, 253_402_300_800_000, -1,
  ];
  for (let i = 0; i < 2000; i++) times.push(1.7e12 + Math.random() * 1e10);
  t.same(
    times.filter((ms) => isoTime(ms) !== new Date(ms).toISOString()),
    [],
    'isoTime differs from toISOString nowhere',
  );
  const slow = (text: string) => {
    const ms = Date.parse(text);
    const frac = /T[^.]*\.\d{3}(\d+)/.exec(text)?.[1];
    return frac && Number.isFinite(ms) ? ms + Number(`0.${frac}`) : ms;
  };
  for (const text of [
    '2026-12-05T03:22:38.123456Z',
    '2026-12-05T03:22:38.123Z',
    '2026-12-05T03:22:38.12Z',
    '2026-12-05T03:22:38Z',
    '2026-12-05T03:22:38.123456+01:00',
    '2026-12-05T03:22:38.999999999Z',
    '2026-02-30T00:00:00.123456Z',
    '2026-12-05T25:00:00.123456Z',
    'not a time',
  ])
    t.same(remoteTime(text), slow(text), text);
});

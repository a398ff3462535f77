import t from 'tap';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EventSpool, type AgentEvent } from '../../agent/spool.js';
import { tempDir } from '../helpers/tmp.js';

const ev = (i: number, pad = 0): AgentEvent => ({
  stream: 'stdout',
  time: `t${i}`,
  payload: `line ${i}${'.'.repeat(pad)}`,
  task: 0,
});

function drain(s: EventSpool, batch = 100): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (;;) {
    const b = s.peek(batch);
    if (b.length === 0) return out;
    out.push(...b);
    s.shift(b.length);
  }
}

t.test('keeps order in memory', async (t) => {
  const s = new EventSpool(join(tempDir(t), 'spool'));
  for (let i = 0; i < 250; i++) s.push(ev(i));
  t.equal(s.length, 250);
  t.same(
    drain(s).map((e) => e.time),
    Array.from({ length: 250 }, (_, i) => `t${i}`),
  );
  t.equal(s.spilled, 0, 'nothing went to disk');
});

t.test('spills to disk past its memory budget and keeps order across memory, disk and memory', async (t) => {
  const file = join(tempDir(t), 'spool');
  const s = new EventSpool(file, { memoryBytes: 64 * 1024 });
  const n = 20_000;
  let next = 0;
  const got: string[] = [];
  // Interleave pushes and partial deliveries, as a slow server would.
  for (let i = 0; i < n; i++) {
    s.push(ev(i, i % 7));
    if (i % 1000 === 999) {
      const b = s.peek(100);
      got.push(...b.map((e) => e.time));
      s.shift(b.length);
    }
  }
  t.ok(s.spilled > 10_000, `events spilled to disk (${s.spilled})`);
  t.ok(existsSync(file) && statSync(file).size > 0, 'the spool file holds them');
  got.push(...drain(s, 73).map((e) => e.time));
  t.equal(got.length, n, 'every event came back exactly once');
  t.ok(
    got.every((x) => x === `t${next++}`),
    'in order',
  );
  t.equal(s.length, 0);
  t.equal(statSync(file).size, 0, 'the spool file is emptied once drained');
  s.close();
  t.notOk(existsSync(file), 'close removes the file');
});

t.test('payloads with newlines and unicode survive the disk', async (t) => {
  const s = new EventSpool(join(tempDir(t), 'spool'), { memoryBytes: 8192 });
  const payloads = Array.from({ length: 20_000 }, (_, i) => `a\nb "quoted" \u2028 é ${i}`);
  for (const [i, p] of payloads.entries()) s.push({ stream: 'stderr', time: `t${i}`, payload: p });
  t.ok(s.spilled > 0);
  t.same(
    drain(s).map((e) => e.payload),
    payloads,
  );
});

t.test('clear drops everything, on disk too', async (t) => {
  const s = new EventSpool(join(tempDir(t), 'spool'), { memoryBytes: 8192 });
  for (let i = 0; i < 1000; i++) s.push(ev(i));
  t.equal(s.clear(), 1000);
  t.equal(s.length, 0);
  t.same(s.peek(10), []);
  s.push(ev(1));
  t.same(
    drain(s).map((e) => e.time),
    ['t1'],
    'usable again after clear',
  );
});

t.test('a huge event is cut to the limit, not lost', async (t) => {
  const s = new EventSpool(join(tempDir(t), 'spool'));
  s.push({ stream: 'worker', time: 't', payload: 'x'.repeat(1_000_000) });
  s.push(ev(2));
  const got = drain(s);
  t.equal(got.length, 2);
  t.ok(got[0]!.payload.endsWith(' [cut]') && got[0]!.payload.length < 200_000);
  t.equal(got[1]!.time, 't2');
});

t.test('memory stays within budget: the rest goes to disk', async (t) => {
  const s = new EventSpool(join(tempDir(t), 'spool'), { memoryBytes: 1 << 20 });
  for (let i = 0; i < 200_000; i++) s.push(ev(i));
  t.ok(s.onDiskCount > 150_000, `most events are on disk (${s.onDiskCount})`);
  t.equal(drain(s).length, 200_000);
});

t.test('shift past what was peeked is a bug and says so', async (t) => {
  const s = new EventSpool(join(tempDir(t), 'spool'));
  s.push(ev(1));
  s.peek(1);
  t.throws(() => s.shift(2), /shift\(2\)/);
});

t.test('a batch body stays within its byte bound, with at least one event', async (t) => {
  const s = new EventSpool(join(tempDir(t), 'spool'));
  for (let i = 0; i < 50; i++) s.push(ev(i, 1000));
  const b = s.peekBatch(1000, 10_000)!;
  t.ok(b.body.length <= 10_000, `${b.body.length} bytes`);
  t.equal(b.count, (JSON.parse(b.body.toString()) as AgentEvent[]).length);
  t.ok(b.count >= 9, 'as many events as fit');
  s.shift(b.count);
  const one = s.peekBatch(1000, 10)!;
  t.equal(one.count, 1, 'one event over the bound is still sent, alone');
  t.equal((JSON.parse(one.body.toString()) as AgentEvent[])[0].time, `t${b.count}`);
  s.shift(1);
  t.equal(s.length, 50 - b.count - 1);
});

import t from 'tap';
import { join } from 'node:path';
import { BATCH_MAX, EventStream } from '../../agent/events.js';
import { EventClock, formatMicros } from '../../agent/event-time.js';
import { EventSpool, type AgentEvent } from '../../agent/spool.js';
import { ApiError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

/** A scripted server: records accepted batches; `fail` decides each call's fate. */
function fakeServer(
  fail: (call: number, batch: AgentEvent[]) => Error | 'land-then-fail' | undefined = () => undefined,
) {
  const batches: AgentEvent[][] = [];
  const calls: AgentEvent[][] = [];
  const client = {
    async appendJobRaw(_job: string, body: Buffer) {
      const events = JSON.parse(body.toString('utf8')) as AgentEvent[];
      calls.push(events);
      const f = fail(calls.length, events);
      if (f === 'land-then-fail') {
        batches.push(events);
        throw new ApiError('POST', 'x', undefined, 'connection reset after the server stored the batch');
      }
      if (f) throw f;
      batches.push(events);
    },
  };
  return { client, batches, calls, landed: () => batches.flat() };
}

function stream(
  t: { teardown(fn: () => void | Promise<void>): void },
  client: ReturnType<typeof fakeServer>['client'],
  extra: Partial<ConstructorParameters<typeof EventStream>[0]> = {},
) {
  const s = new EventStream({
    client,
    job: 'J',
    spool: new EventSpool(join(tempDir(t), 'spool'), { memoryBytes: 32 * 1024 }),
    log: silentLogger(),
    flushMs: 20,
    retryBaseMs: 5,
    retryMaxMs: 20,
    ...extra,
  });
  t.teardown(() => s.close());
  return s;
}

t.test('timestamps strictly increase, with microseconds, even when the clock stands still', async (t) => {
  const clock = new EventClock(() => 1_700_000_000_000_000);
  const a = clock.next();
  const b = clock.next();
  t.equal(a, '2023-11-14T22:13:20.000000Z');
  t.equal(b, '2023-11-14T22:13:20.000001Z');
  t.equal(formatMicros(1_700_000_000_123_456), '2023-11-14T22:13:20.123456Z');
});

t.test(`batches of at most ${BATCH_MAX}, in order, every event once`, async (t) => {
  const srv = fakeServer();
  const s = stream(t, srv.client);
  const n = BATCH_MAX * 3 + 456;
  for (let i = 0; i < n; i++) s.emit('stdout', `line ${i}`, 1);
  await s.flush();
  t.ok(
    srv.batches.every((b) => b.length <= BATCH_MAX && b.length > 0),
    `no batch over ${BATCH_MAX}`,
  );
  t.ok(srv.batches.length < n / 100, 'lines that pile up go out together');
  t.same(
    srv.landed().map((e) => e.payload),
    Array.from({ length: n }, (_, i) => `line ${i}`),
  );
  t.ok(srv.landed().every((e) => e.task === 1 && e.stream === 'stdout'));
  const times = srv.landed().map((e) => e.time);
  t.ok(
    times.every((x, i) => i === 0 || x > times[i - 1]!),
    'times strictly increase',
  );
});

t.test('a partial batch goes out after the flush interval without a flush call', async (t) => {
  const srv = fakeServer();
  const s = stream(t, srv.client);
  s.emit('worker', 'hello');
  await waitFor(() => srv.landed().length === 1, 'the lone event to be sent', 5000);
  t.equal(srv.landed()[0]!.task, undefined, 'a job event has no task');
});

t.test('an outage: batches are retried unchanged and nothing is lost, reordered or repeated', async (t) => {
  let down = true;
  const srv = fakeServer(() => (down ? new ApiError('POST', 'x', undefined, 'ECONNREFUSED') : undefined));
  const s = stream(t, srv.client);
  for (let i = 0; i < 3000; i++) s.emit('stdout', `l${i}`, 0);
  await waitFor(() => s.retries > 5, 'retries during the outage', 5000);
  t.equal(srv.landed().length, 0);
  t.ok(s.backlog === 3000);
  down = false;
  await s.flush();
  t.same(
    srv.landed().map((e) => e.payload),
    Array.from({ length: 3000 }, (_, i) => `l${i}`),
  );
  // Every failed call was resent with exactly the same events (same times).
  const firsts = new Map<string, string>();
  for (const c of srv.calls) {
    const key = c[0]!.time;
    const sig = c.map((e) => e.time).join(',');
    if (firsts.has(key)) t.equal(firsts.get(key), sig, 'a retried batch is identical');
    firsts.set(key, sig);
  }
});

t.test('5xx answers are retried; a malformed batch (400) is dropped and counted, not retried forever', async (t) => {
  const srv = fakeServer((call) =>
    call === 1
      ? new ApiError('POST', 'x', 503, 'busy')
      : call === 2
        ? new ApiError('POST', 'x', 400, 'bad')
        : undefined,
  );
  const s = stream(t, srv.client);
  s.emit('stdout', 'a');
  await s.flush();
  s.emit('stdout', 'b');
  await s.flush();
  t.equal(s.rejected, 1);
  t.same(
    srv.landed().map((e) => e.payload),
    ['b'],
  );
});

t.test('a resent batch whose first attempt landed repeats the same timestamps (server-side dedupe key)', async (t) => {
  const srv = fakeServer((call) => (call === 1 ? 'land-then-fail' : undefined));
  const s = stream(t, srv.client);
  s.emit('stdout', 'once');
  await s.flush();
  t.equal(srv.batches.length, 2, 'the batch reached the server twice');
  t.same(srv.batches[0], srv.batches[1], 'with identical events, so (job, time) identifies the duplicate');
});

t.test('409: the job takes no more events — onGone, queue dropped, flush returns', async (t) => {
  let gone = 0;
  const srv = fakeServer(() => new ApiError('POST', 'x', 409, 'job complete'));
  const s = stream(t, srv.client, { onGone: () => gone++ });
  for (let i = 0; i < 500; i++) s.emit('stdout', `x${i}`);
  await s.flush();
  t.equal(gone, 1);
  t.equal(s.state, 'gone');
  s.emit('stdout', 'ignored');
  t.equal(s.backlog, 0);
});

t.test('flush with an aborted signal returns while the server is down', async (t) => {
  const srv = fakeServer(() => new ApiError('POST', 'x', undefined, 'down'));
  const s = stream(t, srv.client);
  s.emit('stdout', 'x');
  await s.flush(AbortSignal.timeout(100));
  t.equal(s.backlog, 1);
});

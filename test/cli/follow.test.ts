import t from 'tap';
import type { Job, JobEvent } from '../../shared/api/types.js';
import type { EventsOptions, UserClient } from '../../shared/buildomat/user.js';
import { ApiError } from '../../shared/errors.js';
import { Waker } from '../../shared/sleep.js';
import { followEvents } from '../../cli/follow.js';

/** An in-memory job whose events and state the test drives, served like the user API would. */
function fakeServer(opts: { holds: boolean }) {
  const events: JobEvent[] = [];
  const job: Job = {
    id: 'J1',
    name: 'j',
    state: 'running',
    cancelled: false,
    owner: 'u',
    target: 't',
    target_real: 't',
    output_rules: [],
    tags: {},
    tasks: [],
    times: {},
  };
  const waker = new Waker();
  const calls: { minseq: number; waitMs?: number }[] = [];
  const failures: number[] = [];
  const client = {
    async getJob(id: string) {
      if (id !== 'J1') throw new ApiError('GET', 'x', 404, 'no such job');
      return { ...job };
    },
    async events(_id: string, minseq: number, o: EventsOptions = {}) {
      calls.push({ minseq, waitMs: o.waitMs });
      if (failures.length && failures[0] === calls.length) {
        failures.shift();
        throw new ApiError('GET', 'x', undefined, 'connection refused');
      }
      const pick = () => events.filter((e) => e.seq >= minseq);
      if (opts.holds && o.waitMs && pick().length === 0 && !['completed', 'failed'].includes(job.state)) {
        await waker.wait(o.waitMs, o.signal);
      }
      return pick();
    },
  } as unknown as UserClient;
  let seq = 0;
  return {
    client,
    calls,
    failures,
    emit(payload: string) {
      events.push({ seq: ++seq, stream: 'stdout', task: 0, payload, time: new Date().toISOString() });
      waker.wake();
    },
    finish(state: 'completed' | 'failed') {
      job.state = state;
      waker.wake();
    },
  };
}

t.test('a holding server: each event is delivered as it is written, once, in order', async (t) => {
  const s = fakeServer({ holds: true });
  s.emit('before');
  const seen: string[] = [];
  let resolveSeen: (() => void) | undefined;
  const follow = followEvents({
    client: s.client,
    job: 'J1',
    follow: true,
    waitMs: 30_000,
    onEvent: (e) => {
      seen.push(e.payload);
      resolveSeen?.();
    },
  });
  const next = () => new Promise<void>((r) => (resolveSeen = r));
  for (const p of ['one', 'two', 'three']) {
    const n = next();
    s.emit(p);
    await n; // shown while the job still runs: nothing waits for a timer
  }
  s.emit('last');
  s.finish('completed');
  const r = await follow;
  t.same(seen, ['before', 'one', 'two', 'three', 'last']);
  t.equal(r.job.state, 'completed');
  t.equal(r.events, 5);
  t.ok(
    s.calls.some((c) => c.waitMs === 30_000),
    'asked the server to hold',
  );
  t.ok(s.calls.length <= 12, `few requests (${s.calls.length})`);
});

t.test('a server that ignores wait_ms is polled about once per pollMs, not hammered', async (t) => {
  const s = fakeServer({ holds: false });
  const seen: string[] = [];
  const pauses: number[] = [];
  const r = await followEvents({
    client: s.client,
    job: 'J1',
    follow: true,
    pollMs: 1_000,
    onEvent: (e) => seen.push(e.payload),
    // Drive the job from the pauses, not from time.
    pause: async (ms) => {
      pauses.push(ms);
      if (pauses.length === 3) s.emit('a');
      if (pauses.length === 6) s.finish('failed');
    },
  });
  t.same(seen, ['a']);
  t.equal(r.job.state, 'failed');
  t.equal(r.serverWaits, false);
  t.ok(
    pauses.every((ms) => ms === 1_000),
    'a one-second pause after every empty answer',
  );
  // Every request but the ones that returned an event or drained the finished job followed a pause.
  t.ok(s.calls.length <= pauses.length + 3, `${s.calls.length} requests for ${pauses.length} pauses`);
});

t.test('without --follow: prints what exists and stops', async (t) => {
  const s = fakeServer({ holds: true });
  s.emit('x');
  s.emit('y');
  const seen: number[] = [];
  const r = await followEvents({ client: s.client, job: 'J1', follow: false, onEvent: (e) => seen.push(e.seq) });
  t.same(seen, [1, 2]);
  t.equal(r.job.state, 'running');
  t.notOk(
    s.calls.some((c) => c.waitMs),
    'never holds',
  );
});

t.test('transient failures are retried; an unknown job is not', async (t) => {
  const s = fakeServer({ holds: true });
  s.emit('x');
  s.finish('completed');
  s.failures.push(1, 2);
  const retries: number[] = [];
  const r = await followEvents({
    client: s.client,
    job: 'J1',
    follow: true,
    onEvent: () => undefined,
    onRetry: (_e, attempt) => retries.push(attempt),
  });
  t.equal(r.events, 1);
  t.same(retries, [1, 2]);
  await t.rejects(followEvents({ client: s.client, job: 'NOPE', follow: true, onEvent: () => undefined }), {
    message: /no such job/,
  });
});

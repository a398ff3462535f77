// The loop around tick(): it wakes on events rather than sleeping a fixed interval, goes straight
// on after a long-polled lease, stops leasing on the first signal, drains, and stops on the second.
import t from 'tap';
import { silentLogger } from '../../shared/log.js';
import { Waker } from '../../shared/sleep.js';
import { runLoop } from '../../factory/loop.js';
import type { Factory, TickOptions, TickReport } from '../../factory/tick.js';

interface Stub {
  factory: Factory;
  calls: TickOptions[];
  live: number;
  onTick?: (n: number, opts: TickOptions) => Promise<Partial<TickReport>> | Partial<TickReport>;
}

function stub(): Stub {
  const s: Stub = {
    calls: [],
    live: 0,
    factory: undefined as unknown as Factory,
  };
  s.factory = {
    tick: async (opts: TickOptions) => {
      s.calls.push(opts);
      const extra = (await s.onTick?.(s.calls.length, opts)) ?? {};
      return {
        destroying: 0,
        destroyed: 0,
        orphansDeleted: 0,
        leased: 0,
        started: 0,
        longPolled: false,
        settling: 0,
        errors: 0,
        ...extra,
      };
    },
    store: { liveInstances: () => Array.from({ length: s.live }, () => ({ state: 'running' })) },
  } as unknown as Factory;
  return s;
}

function controls() {
  return { graceful: new AbortController(), force: new AbortController(), waker: new Waker() };
}

t.test('a wake starts the next pass long before the poll interval', async (t) => {
  const s = stub();
  const c = controls();
  let started = 0;
  s.onTick = (n) => {
    if (n === 1) setTimeout(() => c.waker.wake(), 20);
    if (n === 2) c.graceful.abort();
    return {};
  };
  const t0 = Date.now();
  const res = await runLoop(s.factory, {
    pollIntervalMs: 60_000,
    leaseWaitMs: 5000,
    drainTimeoutMs: 1000,
    graceful: c.graceful.signal,
    force: c.force.signal,
    waker: c.waker,
    log: silentLogger(),
    onStarted: () => started++,
  });
  t.equal(s.calls.length, 2);
  t.ok(Date.now() - t0 < 30_000, 'did not wait out the 60 s interval');
  t.equal(started, 1, 'readiness reported once, after the first pass');
  t.match(
    s.calls[0],
    { lease: true, leaseWaitMs: 0, signal: c.graceful.signal, leaseInterrupt: AbortSignal },
    'the first pass does not hold the lease call',
  );
  t.same(res, { drained: true, left: 0 });
});

t.test(
  'after a long-polled lease the next pass follows at once; the wait is capped by the poll interval',
  async (t) => {
    const s = stub();
    const c = controls();
    s.onTick = (n) => {
      if (n === 3) c.graceful.abort();
      return { longPolled: true };
    };
    await runLoop(s.factory, {
      pollIntervalMs: 60_000,
      leaseWaitMs: 120_000,
      drainTimeoutMs: 0,
      graceful: c.graceful.signal,
      force: c.force.signal,
      waker: c.waker,
      log: silentLogger(),
    });
    t.equal(s.calls.length, 3, 'three passes with no sleep between them');
    t.equal(s.calls[0].leaseWaitMs, 0, 'the first pass does not hold the lease call');
    t.equal(s.calls[1].leaseWaitMs, 60_000, 'later ones do, capped by the poll interval');
  },
);

t.test('draining: passes without leasing until nothing is live; a second signal cuts it short', async (t) => {
  const s = stub();
  const c = controls();
  s.live = 2;
  s.onTick = (n, opts) => {
    if (n === 1) c.graceful.abort();
    if (!opts.lease) {
      s.live--;
      c.waker.wake();
    }
    return {};
  };
  const res = await runLoop(s.factory, {
    pollIntervalMs: 60_000,
    leaseWaitMs: 0,
    drainTimeoutMs: 60_000,
    graceful: c.graceful.signal,
    force: c.force.signal,
    waker: c.waker,
    log: silentLogger(),
  });
  t.same(res, { drained: true, left: 0 });
  t.same(
    s.calls.map((x) => x.lease),
    [true, false, false],
    'no lease after the signal',
  );

  const s2 = stub();
  const c2 = controls();
  s2.live = 1;
  s2.onTick = (n) => {
    if (n === 1) c2.graceful.abort();
    if (n === 2) setTimeout(() => c2.force.abort(), 20);
    return {};
  };
  const t0 = Date.now();
  const res2 = await runLoop(s2.factory, {
    pollIntervalMs: 60_000,
    leaseWaitMs: 0,
    drainTimeoutMs: 60_000,
    graceful: c2.graceful.signal,
    force: c2.force.signal,
    waker: c2.waker,
    log: silentLogger(),
  });
  t.same(res2, { drained: false, left: 1 });
  t.ok(Date.now() - t0 < 30_000, 'the second signal ends the drain at once');
});

t.test('while an agent comes up: no long poll, and a quick re-check instead of the poll interval', async (t) => {
  const s = stub();
  const c = controls();
  s.onTick = (n) => {
    if (n === 3) c.graceful.abort();
    return { settling: n === 1 ? 1 : 0 };
  };
  const t0 = Date.now();
  const p = runLoop(s.factory, {
    pollIntervalMs: 60_000,
    leaseWaitMs: 5000,
    drainTimeoutMs: 0,
    graceful: c.graceful.signal,
    force: c.force.signal,
    waker: c.waker,
    log: silentLogger(),
  });
  await waitForCalls(s, 2);
  t.ok(Date.now() - t0 < 30_000, 'the second pass came without waiting out the interval');
  t.equal(s.calls[1].leaseWaitMs, 0, 'no long poll while settling');
  c.waker.wake();
  await p;
  t.equal(s.calls[2].leaseWaitMs, 5000, 'long poll again once settled');
});

async function waitForCalls(s: Stub, n: number): Promise<void> {
  while (s.calls.length < n) await new Promise((r) => setTimeout(r, 10));
}

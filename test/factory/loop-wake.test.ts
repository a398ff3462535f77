// A wake cuts the factory's held lease short: a testbed freed while the loop long-polls for the
// other testbeds' targets gets its waiting job at once, not when the long poll ends. In-process
// with a stub pass, and with the real daemons: a released reservation's waiting job starts
// although lease_wait and poll_interval are ten minutes.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { silentLogger } from '../../shared/log.js';
import { Waker, WokenError } from '../../shared/sleep.js';
import { runLoop } from '../../factory/loop.js';
import type { Factory, TickOptions, TickReport } from '../../factory/tick.js';
import { factoryApi, startFactory, startLab, testbedOfJob } from './fixture.js';

t.test('nextWake: aborted by the next wake, which still counts for the next wait', async (t) => {
  const w = new Waker();
  const a = w.nextWake();
  const b = w.nextWake();
  b.dispose();
  w.wake();
  t.ok(a.signal.aborted, 'the guarded call is cut short');
  t.type(a.signal.reason, WokenError);
  t.notOk(b.signal.aborted, 'a disposed guard is left alone');
  const t0 = Date.now();
  await w.wait(60_000);
  t.ok(Date.now() - t0 < 30_000, 'the wake is not lost: the next wait returns at once');
  t.notOk(w.nextWake().signal.aborted, 'a later guard waits for a later wake');
});

t.test('a wake during the held lease ends the pass, and the next pass follows at once', async (t) => {
  const c = { graceful: new AbortController(), force: new AbortController(), waker: new Waker() };
  const calls: TickOptions[] = [];
  const factory = {
    tick: async (opts: TickOptions): Promise<Partial<TickReport>> => {
      calls.push(opts);
      if (calls.length === 2) {
        // The held lease: it lasts until the pass's interrupt fires.
        setTimeout(() => c.waker.wake(), 20);
        await new Promise((resolve) => opts.leaseInterrupt!.addEventListener('abort', resolve, { once: true }));
        return { longPolled: false, settling: 0 };
      }
      if (calls.length === 3) c.graceful.abort();
      return { longPolled: false, settling: 0 };
    },
    store: { liveInstances: () => [] },
  } as unknown as Factory;
  await runLoop(factory, {
    pollIntervalMs: 600_000,
    leaseWaitMs: 600_000,
    drainTimeoutMs: 1000,
    graceful: c.graceful.signal,
    force: c.force.signal,
    waker: c.waker,
    log: silentLogger(),
  });
  t.equal(calls.length, 3, 'the pass after the wake ran (not after the 10-minute poll interval)');
  t.ok(calls[1].leaseInterrupt, 'each pass gets an interrupt for its lease');
  t.equal(calls[1].leaseWaitMs, 600_000, 'the pass long-polled');
});

t.test('a released reservation: its waiting job starts while the loop holds a lease for another target', async (t) => {
  const lab = await startLab(t, {
    testbeds: [
      { name: 'tb-a', targets: ['only-a'] },
      { name: 'tb-b', targets: ['only-b'] },
    ],
  });
  // Ten minutes of long poll and poll interval: the server holds a lease call for at most 60 s,
  // so without an event cutting it short the job would start up to 60 s after the release.
  writeFileSync(
    lab.configFile,
    readFileSync(lab.configFile, 'utf8')
      .replace('poll_interval = "500ms"', 'poll_interval = "10m"')
      .replace('lease_wait = "500ms"', 'lease_wait = "10m"'),
  );
  const f = await startFactory(lab);
  t.teardown(() => f.stop(20_000));
  const api = await factoryApi(f, lab.dbFile);
  t.equal((await api.call('POST', '/v1/users', { body: { name: 'alice' } })).status, 201);
  const reserved = await api.call('POST', '/v1/testbeds/tb-a/reservation', {
    body: { owner: 'alice', ttl: '1h', restore_on_release: false },
  });
  t.equal(reserved.status, 201, 'tb-a reserved');
  const job = await lab.submit('only-a', 'echo ran');
  // The factory leases the job, finds tb-a reserved and keeps the lease; its next pass holds a
  // lease call for only-b (tb-b is free).
  await f.waitForLine(/leased job kept for the next free testbed/, 30_000);
  t.equal((await lab.job(job)).state, 'queued', 'the job waits while tb-a is reserved');
  const releasedAt = Date.now();
  const released = await api.call('DELETE', '/v1/testbeds/tb-a/reservation?force=true');
  t.equal(released.status, 200, 'released');
  // Well under the 60 s a held lease call lasts, and far over what the event takes.
  const done = await lab.waitJob(job, ['completed', 'failed'], 40_000);
  t.equal(done.state, 'completed', 'the job ran without waiting out the held lease call');
  t.equal(await testbedOfJob(lab, job), 'tb-a');
  t.comment(`released → job complete: ${Date.now() - releasedAt} ms`);
});

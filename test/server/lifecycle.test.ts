// Cancellation, lease expiry, maximum runtime, silent workers and unbootstrapped workers. The
// server runs in-process with `mvm server`'s default limits and the tick left to the test: a
// timeout is reached by moving the server's clock past it and running the tick, not by waiting.
import t, { type Test } from 'tap';
import { DEFAULTS } from '../../server/config.js';
import type { FactoryWorkerResult, Job, JobEvent, WorkerPingResult } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { waitFor } from '../helpers/mvm-process.js';
import { leaseJob, startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

/** How far short of a limit "just before" is: real time passes too, while the test runs. */
const MARGIN = 60_000;

async function setup(t: Test) {
  const srv = await startServerInProcess(t, { config: { tickMs: 3_600_000 } });
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const target = await srv.createTarget('nano3');
  const userToken = await srv.createUser('bob');
  const user = srv.client(userToken, proxy.url);
  const factory = srv.client(await srv.createFactory('lab'), proxy.url);
  const submit = (name = 'job') => srv.submitJob(userToken, { target: 'nano3', name });
  const job = (id: string) => user.get<Job>(`/0/job/${id}`);
  const events = (id: string) => user.get<JobEvent[]>(`/0/jobs/${id}/events`);
  /** Moves the server's clock `ms` on and runs its safety tick. */
  const elapse = (ms: number) => {
    srv.clock.advance(ms);
    srv.tick();
  };
  return { srv, proxy, target, user, factory, submit, job, events, elapse };
}

t.test('cancel: a queued job fails at once; a running one fails and its worker powers off', async (t) => {
  const s = await setup(t);
  const queued = await s.submit('queued');
  await s.user.post(`/0/jobs/${queued}/cancel`);
  t.match(await s.job(queued), { state: 'failed', cancelled: true });
  t.match((await s.events(queued)).at(-1), { stream: 'control', payload: 'job cancelled' });
  await t.rejects(s.user.post(`/0/jobs/${queued}/cancel`), { status: 409, message: /already complete/ });
  t.equal(await leaseJob(s.factory, [s.target]), null, 'a cancelled job is not leased');

  const running = await s.submit('running');
  const w = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  t.equal((await w.ping(5000)).job?.id, running);
  await w.append(running, 'stdout', 'working');
  await s.user.post(`/0/jobs/${running}/cancel`);
  t.match(await s.job(running), { state: 'failed', cancelled: true });
  const ping = await w.ping();
  t.equal(ping.poweroff, true, 'the cancelled job’s worker is told to power off');
  t.equal(ping.job ?? null, null);
  await t.rejects(w.append(running, 'stdout', 'late'), { status: 409, message: /already complete \(cancelled\)/ });
  await t.rejects(w.api.post(`/0/worker/job/${running}/chunk`, undefined, { body: Buffer.from('x') }), {
    status: 409,
    message: /already complete/,
  });
  await w.api.post(`/0/worker/job/${running}/complete`, { failed: false }); // the agent may still report; harmless
  t.match(await s.job(running), { state: 'failed', cancelled: true }, 'a late completion does not undo the cancel');
  t.equal((await s.factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.recycle, true);
  t.same(s.proxy.violations, []);
});

t.test('lease expiry: another factory gets the job once the lease lapses', async (t) => {
  const s = await setup(t);
  const other = s.srv.client(await s.srv.createFactory('other'), s.proxy.url);
  const id = await s.submit();
  t.same(await leaseJob(s.factory, [s.target]), { job: id, target: s.target });
  t.equal(await leaseJob(other, [s.target]), null, 'held by the first factory');
  t.equal(await leaseJob(s.factory, [s.target]), null, 'not handed out twice, even to its holder');
  t.equal(await s.factory.post<boolean>(`/0/factory/lease/${id}`), true, 'the holder may renew');
  t.equal(await other.post<boolean>(`/0/factory/lease/${id}`), false, 'another factory may not');
  // A long-poll waiting for the job returns as soon as the lease lapses and it can be leased again.
  const got = leaseJob(other, [s.target], 60_000);
  s.elapse(DEFAULTS.leaseMs / 2);
  t.equal(await s.factory.post<boolean>(`/0/factory/lease/${id}`), true, 'renewed before it lapses');
  s.elapse(DEFAULTS.leaseMs);
  t.same(await got, { job: id, target: s.target }, 'leased by the other factory after expiry');
  t.equal(await s.factory.post<boolean>(`/0/factory/lease/${id}`), false, 'the lapsed lease cannot be renewed');
  t.same(s.proxy.violations, []);
});

t.test('a factory that gives up a held lease call is granted nothing: the job goes to the next call', async (t) => {
  const s = await setup(t);
  // Straight to the server: the conformance proxy would keep its own call open.
  const factory = s.srv.client(await s.srv.createFactory('gives-up'));
  // A long-poll the factory abandons (it stops, or a freed testbed wakes it to lease again).
  const gaveUp = new AbortController();
  const held = factory.post(
    '/0/factory/lease',
    { supported_targets: [s.target] },
    {
      query: { wait_ms: 60_000 },
      signal: gaveUp.signal,
    },
  );
  await waitFor(() => s.srv.ctx.bus.waiting('queue') > 0 || undefined, 'the lease call to be held');
  gaveUp.abort();
  await t.rejects(held, 'the factory gave up the call');
  await waitFor(() => s.srv.ctx.bus.waiting('queue') === 0 || undefined, 'the server to see the call end');
  const id = await s.submit();
  t.same(await leaseJob(factory, [s.target]), { job: id, target: s.target }, 'leased at once, not after 60 s');
});

t.test('a held ping whose worker gives up ends on the server', async (t) => {
  const s = await setup(t);
  const factory = s.srv.client(await s.srv.createFactory('gives-up'));
  const w = await startScriptedWorker(s.srv, factory, s.target);
  const pingGone = new AbortController();
  const ping = w.api.get('/0/worker/ping', { query: { wait_ms: 60_000 }, signal: pingGone.signal });
  await waitFor(() => s.srv.ctx.heldPings.has(w.id) || undefined, 'the ping to be held');
  pingGone.abort();
  await t.rejects(ping);
  await waitFor(() => !s.srv.ctx.heldPings.has(w.id) || undefined, 'the held ping to end');
});

t.test('max runtime: the job fails, the control event says why, the worker is recycled', async (t) => {
  const s = await setup(t);
  const id = await s.submit();
  const w = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  t.equal((await w.ping(5000)).job?.id, id);
  // A live worker, pinging more often than the ping timeout, whose job runs up to the limit.
  const step = DEFAULTS.pingTimeoutMs - MARGIN;
  let poweroff = false;
  for (let ran = 0; ran < DEFAULTS.maxRuntimeMs - MARGIN && !poweroff; ran += step) {
    s.elapse(Math.min(step, DEFAULTS.maxRuntimeMs - MARGIN - ran));
    poweroff = (await w.ping()).poweroff;
  }
  t.equal(poweroff, false, 'still running just before the limit');
  t.match(await s.job(id), { state: 'running' });
  s.elapse(2 * MARGIN);
  t.equal((await w.ping()).poweroff, true, 'told to power off once over the limit');
  t.match(await s.job(id), { state: 'failed', cancelled: false });
  t.match((await s.events(id)).at(-1), { stream: 'control', payload: /exceeded its maximum runtime of 3h/ });
  t.equal((await s.factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.recycle, true);
  t.same(s.proxy.violations, []);
});

t.test('a worker that stops pinging is failed with its job', async (t) => {
  const s = await setup(t);
  const id = await s.submit();
  const w = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  t.equal((await w.ping(5000)).job?.id, id);
  // No more pings.
  s.elapse(DEFAULTS.pingTimeoutMs - MARGIN);
  t.match(await s.job(id), { state: 'running' }, 'not yet: silent for less than the ping timeout');
  s.elapse(2 * MARGIN);
  t.match(await s.job(id), { state: 'failed' }, 'failed once silent for longer');
  t.match((await s.events(id)).at(-1), { stream: 'control', payload: /stopped responding \(no ping for 10m\)/ });
  t.equal((await s.factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.recycle, true);
  t.same(s.proxy.violations, []);
});

t.test('a held long-poll ping keeps the worker alive', async (t) => {
  const s = await setup(t);
  const w = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  const held = w.api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 60_000 } });
  await waitFor(() => s.srv.ctx.heldPings.has(w.id), 'the ping to be held');
  s.elapse(3 * DEFAULTS.pingTimeoutMs);
  // Still a live worker: a job submitted now is handed to it through the held ping.
  const id = await s.submit();
  const r = await held;
  t.equal(r.poweroff, false, 'still alive after a ping held longer than the ping timeout');
  t.equal(r.job?.id, id);
  t.same(s.proxy.violations, []);
});

t.test('a worker never bootstrapped is recycled', async (t) => {
  const s = await setup(t);
  const w = await s.factory.post<{ id: string; bootstrap: string }>('/0/factory/worker', { target: s.target });
  const recycle = async () => (await s.factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.recycle;
  s.elapse(DEFAULTS.bootstrapTimeoutMs - MARGIN);
  t.equal(await recycle(), false, 'kept while within the bootstrap timeout');
  s.elapse(2 * MARGIN);
  t.equal(await recycle(), true, 'recycled after it');
  await s.factory.patch(`/0/factory/worker/${w.id}`, { private: 'late' });
  await t.rejects(
    s.srv.client(undefined, s.proxy.url).post('/0/worker/bootstrap', { bootstrap: w.bootstrap, token: 'x'.repeat(64) }),
    { status: 401, message: /recycled before it bootstrapped/ },
  );
  t.same(s.proxy.violations, []);
});

t.test('a worker that reports a fatal failure fails its job; a destroyed worker fails its job', async (t) => {
  const s = await setup(t);
  const a = await s.submit('a');
  const wa = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  t.equal((await wa.ping(5000)).job?.id, a);
  await wa.api.post('/0/worker/fail', { reason: 'agent restarted in the middle of the job' });
  t.match(await s.job(a), { state: 'failed', cancelled: false });
  t.match((await s.events(a)).at(-1), {
    stream: 'control',
    payload: 'worker failed: agent restarted in the middle of the job',
  });
  t.equal((await wa.ping()).poweroff, true);

  const b = await s.submit('b');
  const wb = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  t.equal((await wb.ping(5000)).job?.id, b);
  t.equal(await s.factory.delete<boolean>(`/0/factory/worker/${wb.id}`), true);
  t.match(await s.job(b), { state: 'failed' });
  t.match((await s.events(b)).at(-1), { stream: 'control', payload: /was destroyed by its factory/ });
  await t.rejects(wb.ping(), { status: 401, message: /invalid token/ });
  t.same(s.proxy.violations, []);
});

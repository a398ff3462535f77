// Cancellation, lease expiry, maximum runtime, silent workers and unbootstrapped workers, with
// the server's timing limits shortened to seconds.
import t, { type Test } from 'tap';
import type { FactoryWorkerResult, Job, JobEvent } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { waitFor } from '../helpers/mvm-process.js';
import { leaseJob, startScriptedWorker, startServer } from '../helpers/server.js';

async function setup(t: Test, args: string[]) {
  const srv = await startServer(t, { args: ['--tick', '100ms', ...args] });
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const target = await srv.createTarget('nano3');
  const userToken = await srv.createUser('bob');
  const user = srv.client(userToken, proxy.url);
  const factory = srv.client(await srv.createFactory('lab'), proxy.url);
  const submit = (name = 'job') => srv.submitJob(userToken, { target: 'nano3', name });
  const job = (id: string) => user.get<Job>(`/0/job/${id}`);
  const events = (id: string) => user.get<JobEvent[]>(`/0/jobs/${id}/events`);
  return { srv, proxy, target, user, factory, submit, job, events };
}

t.test('cancel: a queued job fails at once; a running one fails and its worker powers off', async (t) => {
  const s = await setup(t, []);
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
  const s = await setup(t, ['--lease-timeout', '1s']);
  const other = s.srv.client(await s.srv.createFactory('other'), s.proxy.url);
  const id = await s.submit();
  t.same(await leaseJob(s.factory, [s.target]), { job: id, target: s.target });
  t.equal(await leaseJob(other, [s.target]), null, 'held by the first factory');
  t.equal(await leaseJob(s.factory, [s.target]), null, 'not handed out twice, even to its holder');
  t.equal(await s.factory.post<boolean>(`/0/factory/lease/${id}`), true, 'the holder may renew');
  t.equal(await other.post<boolean>(`/0/factory/lease/${id}`), false, 'another factory may not');
  // The long-poll returns as soon as the lease lapses and the job can be leased again.
  const got = await leaseJob(other, [s.target], 10_000);
  t.same(got, { job: id, target: s.target }, 'leased by the other factory after expiry');
  t.equal(await s.factory.post<boolean>(`/0/factory/lease/${id}`), false, 'the lapsed lease cannot be renewed');
  t.same(s.proxy.violations, []);
});

t.test('max runtime: the job fails, the control event says why, the worker is recycled', async (t) => {
  const s = await setup(t, ['--max-runtime', '1s']);
  const id = await s.submit();
  const w = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  t.equal((await w.ping(5000)).job?.id, id);
  // Keep pinging (a live worker) until the server ends the job.
  await waitFor(async () => (await w.ping(500)).poweroff, 'poweroff after max runtime', 15_000);
  t.match(await s.job(id), { state: 'failed', cancelled: false });
  t.match((await s.events(id)).at(-1), { stream: 'control', payload: /exceeded its maximum runtime of 1s/ });
  t.equal((await s.factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.recycle, true);
  t.same(s.proxy.violations, []);
});

t.test('a worker that stops pinging is failed with its job', async (t) => {
  const s = await setup(t, ['--ping-timeout', '1s']);
  const id = await s.submit();
  const w = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  t.equal((await w.ping(5000)).job?.id, id);
  // No more pings: wait for the server to notice.
  await waitFor(async () => (await s.job(id)).state === 'failed', 'job failed after ping timeout', 15_000, 100);
  t.match((await s.events(id)).at(-1), { stream: 'control', payload: /stopped responding/ });
  t.equal((await s.factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.recycle, true);
  t.same(s.proxy.violations, []);
});

t.test('a held long-poll ping keeps the worker alive', async (t) => {
  const s = await setup(t, ['--ping-timeout', '1s']);
  const w = await startScriptedWorker(s.srv, s.factory, s.target, s.proxy.url);
  const r = await w.ping(2500);
  t.equal(r.poweroff, false, 'still alive after a ping held longer than the ping timeout');
  t.same(s.proxy.violations, []);
});

t.test('a worker never bootstrapped is recycled', async (t) => {
  const s = await setup(t, ['--bootstrap-timeout', '1s']);
  const w = await s.factory.post<{ id: string; bootstrap: string }>('/0/factory/worker', { target: s.target });
  await waitFor(
    async () => (await s.factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.recycle,
    'recycle',
    15_000,
    100,
  );
  await s.factory.patch(`/0/factory/worker/${w.id}`, { private: 'late' });
  await t.rejects(
    s.srv.client(undefined, s.proxy.url).post('/0/worker/bootstrap', { bootstrap: w.bootstrap, token: 'x'.repeat(64) }),
    { status: 401, message: /recycled before it bootstrapped/ },
  );
  t.same(s.proxy.violations, []);
});

t.test('a worker that reports a fatal failure fails its job; a destroyed worker fails its job', async (t) => {
  const s = await setup(t, []);
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

// The whole buildomat protocol against the job server (in-process: real SQLite, real HTTP), driven by
// a scripted factory, worker and user (plain HTTP), with every exchange validated against the spec.
import t from 'tap';
import type {
  FactoryLeaseResult,
  FactoryWorker,
  FactoryWorkerResult,
  Job,
  JobEvent,
  JobOutput,
  WorkerPingResult,
} from '../../shared/api/types.js';
import { newToken } from '../../shared/ids.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

t.test('lease → create → associate → bootstrap → ping → append → output → complete', async (t) => {
  const srv = await startServerInProcess(t, { config: { tickMs: 200 } });
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const targetId = await srv.createTarget('bitaxe');
  const userToken = await srv.createUser('alice');
  const factoryToken = await srv.createFactory('lab');
  const user = srv.client(userToken, proxy.url);
  const factory = srv.client(factoryToken, proxy.url);

  const jobId = (
    await user.post<{ id: string }>('/0/jobs', {
      name: 'flash and test',
      target: 'bitaxe',
      output_rules: ['/work/output/**/*', '%/var/log/*.log'],
      tasks: [
        { name: 'flash', script: 'mvm runner flash', env_clear: false, env: { A: '1' } },
        { name: 'test', script: 'mvm runner test', env_clear: false, env: {}, workdir: '/work/t' },
      ],
      tags: { commit: 'abc123' },
    })
  ).id;
  t.equal((await user.get<Job>(`/0/job/${jobId}`)).state, 'queued');

  t.same(await factory.get('/0/factory/ping'), { ok: true });
  const lease = await factory.post<FactoryLeaseResult>('/0/factory/lease', { supported_targets: [targetId] });
  t.same(lease.lease, { job: jobId, target: targetId }, 'the queued job is leased at once');
  t.equal(await factory.post<boolean>(`/0/factory/lease/${jobId}`), true, 'lease renewal');

  const w = await factory.post<FactoryWorker>('/0/factory/worker', {
    target: targetId,
    job: jobId,
    wait_for_flush: true,
  });
  t.match(w, { online: false, recycle: false, private: null, target: targetId });
  await factory.patch(`/0/factory/worker/${w.id}`, { private: 'bench-1/01INSTANCE' });
  await factory.patch(`/0/factory/worker/${w.id}`, { private: 'bench-1/01INSTANCE' }); // same again is fine

  const consoleLine = (payload: string) =>
    factory.post<{ retry: boolean }>(`/0/factory/worker/${w.id}/append`, {
      stream: 'console',
      time: new Date().toISOString(),
      payload,
    });
  t.equal((await consoleLine('power on')).retry, true, 'console output before the worker has a job: retry');
  const anon = srv.client(undefined, proxy.url);
  const token = newToken();
  t.equal((await anon.post<{ id: string }>('/0/worker/bootstrap', { bootstrap: w.bootstrap, token })).id, w.id);
  t.equal(
    (await anon.post<{ id: string }>('/0/worker/bootstrap', { bootstrap: w.bootstrap, token })).id,
    w.id,
    'bootstrap is idempotent',
  );
  const worker = srv.client(token, proxy.url);

  let ping = await worker.get<WorkerPingResult>('/0/worker/ping');
  t.equal(ping.job ?? null, null, 'no job in the ping before the flush');
  t.equal((await consoleLine('power on')).retry, false, 'the job is assigned: the retried console output lands in it');
  t.equal((await consoleLine('booted')).retry, false);
  const held = worker.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 10_000 } });
  await factory.post(`/0/factory/worker/${w.id}/flush`);
  ping = await held;
  t.equal(ping.poweroff, false);
  t.equal(ping.job?.id, jobId, 'the job arrives after the flush');
  t.same(
    ping.job?.tasks.map((x) => [x.id, x.name, x.workdir]),
    [
      [0, 'flash', '/work'],
      [1, 'test', '/work/t'],
    ],
  );
  t.same(ping.job?.output_rules[1], {
    rule: '/var/log/*.log',
    ignore: false,
    size_change_ok: true,
    require_match: false,
  });
  t.match(ping.factory_info, { name: 'lab', private: 'bench-1/01INSTANCE' });
  t.equal((await factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.online, true);

  const now = () => new Date().toISOString();
  await worker.post(`/1/worker/job/${jobId}/append`, [
    { stream: 'task', time: now(), payload: 'starting task 0: "flash"', task: 0 },
    { stream: 'stdout', time: now(), payload: 'flashing v2.9.0', task: 0 },
  ]);
  await worker.post(`/0/worker/job/${jobId}/task/0/append`, {
    stream: 'stderr',
    time: now(),
    payload: 'warning: slow',
  });
  await worker.post(`/0/worker/job/${jobId}/task/0/complete`, { failed: false });

  t.same(await worker.get(`/0/worker/job/${jobId}/quota`), { max_bytes_per_output: 1024 * 1024 * 1024 });
  const part1 = Buffer.from('hello, ');
  const part2 = Buffer.from('output\n');
  const c1 = await worker.post<{ id: string }>(`/0/worker/job/${jobId}/chunk`, undefined, { body: part1 });
  const c2 = await worker.post<{ id: string }>(`/0/worker/job/${jobId}/chunk`, undefined, { body: part2 });
  const commit = { path: '/work/output/report.txt', size: 14, chunks: [c1.id, c2.id], commit_id: 'commit-1' };
  let res = await worker.post<{ complete: boolean; error?: string | null }>(`/1/worker/job/${jobId}/output`, commit);
  for (let i = 0; !res.complete && i < 100; i++) res = await worker.post(`/1/worker/job/${jobId}/output`, commit);
  t.same(res, { complete: true });
  t.same(await worker.post(`/1/worker/job/${jobId}/output`, commit), { complete: true }, 'commit is idempotent');
  await t.rejects(
    worker.post(`/1/worker/job/${jobId}/output`, { ...commit, path: '/work/output/other.txt' }),
    { status: 400, message: /already stored "\/work\/output\/report.txt"/ },
    'a commit_id names one output',
  );
  await worker.post(`/0/worker/job/${jobId}/task/1/complete`, { failed: false });
  await worker.post(`/0/worker/job/${jobId}/complete`, { failed: false });
  await worker.post(`/0/worker/job/${jobId}/complete`, { failed: false }); // a retry is harmless

  ping = await worker.get<WorkerPingResult>('/0/worker/ping');
  t.equal(ping.poweroff, true, 'single-use worker powers off after its job');
  t.equal((await factory.get<FactoryWorkerResult>(`/0/factory/worker/${w.id}`)).worker?.recycle, true);
  t.equal((await factory.get<FactoryWorker[]>('/0/factory/workers')).length, 1);
  t.equal(await factory.delete<boolean>(`/0/factory/worker/${w.id}`), true);
  t.same(await factory.get(`/0/factory/worker/${w.id}`), { worker: null });
  t.same(await factory.get('/0/factory/workers'), []);
  await t.rejects(
    worker.get('/0/worker/ping'),
    { status: 401, message: /invalid token/ },
    'a deleted worker token is dead',
  );

  const job = await user.get<Job>(`/0/job/${jobId}`);
  t.match(job, {
    state: 'completed',
    cancelled: false,
    target: 'bitaxe',
    target_real: 'bitaxe',
    tags: { commit: 'abc123' },
  });
  t.same(job.output_rules, ['/work/output/**/*', '%/var/log/*.log']);
  t.same(
    job.tasks.map((x) => x.state),
    ['completed', 'completed'],
  );
  t.ok(job.times?.submit && job.times.assigned && job.times.complete, 'times recorded');
  const evs = await user.get<JobEvent[]>(`/0/jobs/${jobId}/events`);
  t.same(
    evs.map((e) => e.seq),
    evs.map((_, i) => i + 1),
    'event seq numbers from 1',
  );
  t.same(
    evs.map((e) => e.stream),
    ['control', 'console', 'console', 'task', 'stdout', 'stderr'],
  );
  t.same(
    evs.filter((e) => e.stream === 'console').map((e) => e.payload),
    ['power on', 'booted'],
  );
  t.same(
    (await user.get<JobEvent[]>(`/0/jobs/${jobId}/events`, { query: { minseq: 5 } })).map((e) => e.seq),
    [5, 6],
  );
  const outs = await user.get<JobOutput[]>(`/0/jobs/${jobId}/outputs`);
  t.match(outs, [{ path: '/work/output/report.txt', size: 14 }]);
  const body = await user.raw('GET', `/0/jobs/${jobId}/outputs/${outs[0].id}`);
  t.equal(await text(body.body), 'hello, output\n');
  const part = await user.raw('GET', `/0/jobs/${jobId}/outputs/${outs[0].id}`, { headers: { range: 'bytes=7-12' } });
  t.equal(part.status, 206);
  t.equal(await text(part.body), 'output');

  const secrets = [srv.adminToken, userToken, factoryToken, token, w.bootstrap];
  const logs = srv.logs.join('\n');
  t.ok(logs.length > 0, 'the server logged');
  t.notOk(
    secrets.some((s) => logs.includes(s)),
    'no token or bootstrap string appears in the server log',
  );
  const seen = proxy.seen();
  const wanted = [
    'factory_ping',
    'factory_lease',
    'factory_lease_renew',
    'factory_worker_create',
    'factory_worker_associate',
    'factory_worker_get',
    'factory_workers',
    'factory_worker_destroy',
    'factory_worker_append',
    'factory_worker_flush',
    'worker_bootstrap',
    'worker_ping',
    'worker_job_append',
    'worker_task_append',
    'worker_task_complete',
    'worker_job_quota',
    'worker_job_upload_chunk',
    'worker_job_add_output',
    'worker_job_complete',
    'job_submit',
    'job_get',
    'job_events_get',
    'job_outputs_get',
    'job_output_download',
  ];
  t.same(
    wanted.filter((op) => !seen.has(op)),
    [],
    'every factory and worker operation was exercised',
  );
  t.same(proxy.violations, [], 'every exchange conforms to the buildomat spec');
});

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

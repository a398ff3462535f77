// The job server's operator endpoints (in-process: real SQLite, real HTTP): /metrics scraped and parsed after a
// job ran (values matching the API), behind a token with --metrics-auth token; /healthz and
// /readyz without a token while the API still needs one; the OpenAPI document and the docs UI
// with its assets served locally.
import t from 'tap';
import type { Job, JobEvent } from '../../shared/api/types.js';
import { leaseJob, startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';
import { parsePromText } from '../helpers/prom-text.js';

async function get(url: string, token?: string) {
  const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

t.test('metrics after a job, health without a token, docs', async (t) => {
  const srv = await startServerInProcess(t, { config: { metricsAuth: 'token' } });
  const targetId = await srv.createTarget('bitaxe');
  await srv.createTarget('avalon');
  const factory = srv.client(await srv.createFactory('lab'));
  const userToken = await srv.createUser('ci');
  const user = srv.client(userToken);

  const jobId = await srv.submitJob(userToken, { target: 'bitaxe', script: 'true' });
  await srv.submitJob(userToken, { target: 'bitaxe', script: 'true' }); // stays queued
  const lease = await leaseJob(factory, [targetId]);
  t.equal(lease?.job, jobId);
  const w = await startScriptedWorker(srv, factory, targetId, srv.url, { job: jobId });
  const ping = await w.ping();
  t.equal(ping.job?.id, jobId);
  await w.append(jobId, 'stdout', 'hello', 0);
  await w.append(jobId, 'stdout', 'world', 0);
  const chunk = await w.api.post<{ id: string }>(`/0/worker/job/${jobId}/chunk`, undefined, {
    body: Buffer.from('0123456789'),
  });
  const commit = { path: '/work/out.txt', size: 10, chunks: [chunk.id], commit_id: 'c1' };
  let res = await w.api.post<{ complete: boolean }>(`/1/worker/job/${jobId}/output`, commit);
  for (let i = 0; !res.complete && i < 100; i++) res = await w.api.post(`/1/worker/job/${jobId}/output`, commit);
  await w.api.post(`/0/worker/job/${jobId}/task/0/complete`, { failed: false });
  await w.api.post(`/0/worker/job/${jobId}/complete`, { failed: false });

  t.equal((await get(`${srv.url}/metrics`)).status, 401, '/metrics needs a token when asked');
  const noUser = await get(`${srv.url}/0/whoami`);
  t.equal(noUser.status, 401, 'the API still needs a token');
  const scrape = await get(`${srv.url}/metrics`, userToken);
  t.equal(scrape.status, 200);
  t.match(scrape.type, /^text\/plain/);
  const p = parsePromText(scrape.body);

  const job = await user.get<Job>(`/0/job/${jobId}`);
  const events = await user.get<JobEvent[]>(`/0/jobs/${jobId}/events`, { query: { minseq: 0 } });
  t.equal(job.state, 'completed');
  t.equal(p.value('mvm_server_jobs', { state: 'completed' }), 1);
  t.equal(p.value('mvm_server_jobs', { state: 'queued' }), 1);
  t.equal(p.value('mvm_server_jobs', { state: 'running' }), 0);
  t.equal(p.value('mvm_server_queue_depth', { target: 'bitaxe' }), 1);
  t.equal(p.value('mvm_server_queue_depth', { target: 'avalon' }), 0);
  t.equal(p.value('mvm_server_job_assign_latency_seconds_count'), 1, 'one job assigned');
  const latency = (Date.parse(job.times.assigned!) - Date.parse(job.times.submit!)) / 1000;
  t.ok(
    Math.abs(p.value('mvm_server_job_assign_latency_seconds_sum')! - latency) < 0.002,
    `latency ${latency}s as the API's times say`,
  );
  t.equal(p.value('mvm_server_events_appended_total'), events.length, `${events.length} events, as the API lists`);
  const outputs = await user.get<Array<{ size: number }>>(`/0/jobs/${jobId}/outputs`);
  t.equal(
    p.value('mvm_server_stored_bytes', { kind: 'outputs' }),
    outputs.reduce((n, o) => n + o.size, 0),
    'output bytes as the API lists',
  );
  // Chunks may already be reclaimed once assembled: at most what was uploaded.
  t.ok(p.value('mvm_server_stored_bytes', { kind: 'chunks' })! <= 10, 'chunk bytes');
  t.equal(p.value('mvm_server_workers', { state: 'recycled' }), 1);
  t.equal(p.value('mvm_server_hold'), 0);
  t.ok(p.families.has('process_cpu_user_seconds_total'), 'process metrics too');
  for (const s of p.samples)
    t.notOk(
      Object.values(s.labels).some((v) => v === jobId || v === w.id),
      `${s.name}: no id labels`,
    );

  const admin = await get(`${srv.url}/metrics`, srv.adminToken);
  t.equal(admin.status, 200, 'the admin token also reads /metrics');
  t.equal((await get(`${srv.url}/metrics`, w.token)).status, 401, 'a worker token does not');

  const health = await get(`${srv.url}/healthz`);
  t.equal(health.status, 200);
  t.match(JSON.parse(health.body), { status: 'ok' });
  const ready = await get(`${srv.url}/readyz`);
  t.equal(ready.status, 200);
  t.match(JSON.parse(ready.body), { status: 'ready', checks: [{ name: 'database', ok: true }] });

  const doc = JSON.parse((await get(`${srv.url}/openapi.json`)).body);
  t.equal(doc.openapi, '3.0.3');
  t.ok(doc.paths['/0/jobs'] && doc.paths['/healthz'], 'the buildomat paths and the operator endpoints');
  const ui = await get(`${srv.url}/docs/`);
  t.equal(ui.status, 200);
  t.match(ui.type, /text\/html/);
  t.match(ui.body, /swagger-ui/);
  t.notMatch(ui.body, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, 'no assets from elsewhere');
  const bundle = await get(`${srv.url}/docs/static/swagger-ui-bundle.js`);
  t.equal(bundle.status, 200, 'the UI assets are served by the server itself');
  t.ok(bundle.body.length > 100_000);
  const init = await get(`${srv.url}/docs/static/swagger-initializer.js`);
  t.equal(init.status, 200);
  const json = await get(`${srv.url}/docs/json`);
  t.equal(JSON.parse(json.body).info.title, doc.info.title, 'the UI reads the same document');
});

t.test('metrics are open by default', async (t) => {
  const srv = await startServerInProcess(t);
  const r = await get(`${srv.url}/metrics`);
  t.equal(r.status, 200);
  t.equal(parsePromText(r.body).value('mvm_server_jobs', { state: 'queued' }), 0);
});

// A server killed with SIGKILL and started again keeps every job, event, input and output it
// acknowledged, and the worker carries on where it was. Spawns `mvm server` (the process is under
// test: SIGKILL, SIGTERM and its exit code), so it is not in the unit tier.
import t from 'tap';
import type { Job, JobEvent, JobOutput } from '../../shared/api/types.js';
import type { HttpClient } from '../../shared/http.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { startScriptedWorker, startServer } from '../helpers/server.js';

async function bytes(
  api: HttpClient,
  path: string,
  headers?: Record<string, string>,
): Promise<{ status: number; body: Buffer }> {
  const r = await api.raw('GET', path, { headers });
  const parts: Buffer[] = [];
  for await (const c of r.body) parts.push(Buffer.from(c as Buffer));
  return { status: r.status, body: Buffer.concat(parts) };
}

t.test('kill -9 and restart keeps jobs, events, inputs and outputs', async (t) => {
  const srv = await startServer(t, { args: ['--tick', '100ms'] });
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const target = await srv.createTarget('gamma');
  const userToken = await srv.createUser('carol');
  const user = srv.client(userToken, proxy.url);
  const factory = srv.client(await srv.createFactory('lab'), proxy.url);

  const id = await srv.submitJob(userToken, {
    target: 'gamma',
    inputs: ['firmware.bin', 'cfg/settings.toml'],
    output_rules: ['/work/output/*'],
  });
  t.equal((await user.get<Job>(`/0/job/${id}`)).state, 'waiting', 'waits for its inputs');
  const fw = Buffer.alloc(300_000, 7);
  fw.write('ESP32', 0);
  const c1 = await user.post<{ id: string }>(`/0/jobs/${id}/chunk`, undefined, { body: fw.subarray(0, 200_000) });
  const c2 = await user.post<{ id: string }>(`/0/jobs/${id}/chunk`, undefined, { body: fw.subarray(200_000) });
  t.same(
    await user.post(`/1/jobs/${id}/input`, {
      name: 'firmware.bin',
      size: fw.length,
      chunks: [c1.id, c2.id],
      commit_id: 'fw',
    }),
    { complete: true },
  );
  t.same(
    await user.post(`/1/jobs/${id}/input`, {
      name: 'firmware.bin',
      size: fw.length,
      chunks: [c1.id, c2.id],
      commit_id: 'fw',
    }),
    { complete: true },
    'attach is idempotent',
  );
  t.equal((await user.get<Job>(`/0/job/${id}`)).state, 'waiting', 'one input still missing');
  const c3 = await user.post<{ id: string }>(`/0/jobs/${id}/chunk`, undefined, { body: Buffer.from('freq = 525\n') });
  await user.post(`/1/jobs/${id}/input`, { name: 'cfg/settings.toml', size: 11, chunks: [c3.id], commit_id: 'cfg' });
  t.equal((await user.get<Job>(`/0/job/${id}`)).state, 'queued');

  const w = await startScriptedWorker(srv, factory, target, proxy.url);
  const ping = await w.ping(5000);
  t.equal(ping.job?.id, id);
  t.same(ping.job?.inputs.map((i) => i.name).sort(), ['cfg/settings.toml', 'firmware.bin']);
  const fwInput = ping.job!.inputs.find((i) => i.name === 'firmware.bin')!;
  for (let i = 0; i < 50; i++) await w.append(id, 'stdout', `line ${i}`, 0);
  const oc = await w.api.post<{ id: string }>(`/0/worker/job/${id}/chunk`, undefined, {
    body: Buffer.from('result: pass\n'),
  });
  t.same(
    await w.api.post(`/1/worker/job/${id}/output`, {
      path: '/work/output/result.txt',
      size: 13,
      chunks: [oc.id],
      commit_id: 'o1',
    }),
    { complete: true },
  );
  const before = await user.get<JobEvent[]>(`/0/jobs/${id}/events`);
  t.equal(before.length, 51);

  await srv.restart({ kill9: true });

  t.match(await user.get<Job>(`/0/job/${id}`), { state: 'running' }, 'the job survived');
  t.same(await user.get<JobEvent[]>(`/0/jobs/${id}/events`), before, 'every event survived');
  const dl = await bytes(w.api, `/0/worker/job/${id}/inputs/${fwInput.id}`);
  t.ok(dl.body.equals(fw), 'the input survived byte for byte');
  const range = await bytes(w.api, `/0/worker/job/${id}/inputs/${fwInput.id}`, { range: 'bytes=0-4' });
  t.equal(range.status, 206);
  t.equal(range.body.toString(), 'ESP32');
  t.equal((await w.ping()).job?.id, id, 'the worker token still works and still has its job');
  await w.append(id, 'stdout', 'after restart', 0);
  await w.api.post(`/0/worker/job/${id}/task/0/complete`, { failed: false });
  await w.api.post(`/0/worker/job/${id}/complete`, { failed: false });
  const outs = await user.get<JobOutput[]>(`/0/jobs/${id}/outputs`);
  t.match(outs, [{ path: '/work/output/result.txt', size: 13 }]);
  t.equal((await bytes(user, `/0/jobs/${id}/outputs/${outs[0].id}`)).body.toString(), 'result: pass\n');
  t.match(
    (await user.get<JobEvent[]>(`/0/jobs/${id}/events`, { query: { minseq: 52 } })).map((e) => e.payload),
    ['after restart'],
  );

  await srv.restart();
  t.match(await user.get<Job>(`/0/job/${id}`), { state: 'completed' }, 'a clean restart keeps the result');
  t.equal(await srv.stop(), 0, 'SIGTERM stops the server cleanly (exit 0)');
  t.same(proxy.violations, []);
});

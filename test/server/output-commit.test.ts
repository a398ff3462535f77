// Output commits are asynchronous: `{complete:false}` while the file is being assembled, the job
// cannot complete meanwhile (409), and the same commit answers complete once stored. The server
// runs in-process, so that the assembly can be held back on purpose.
import t from 'tap';
import { newToken } from '../../shared/ids.js';
import type { JobOutput } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

t.test('a pending output commit holds back job completion', async (t) => {
  const srv = await startServerInProcess(t);
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());

  // Hold every assembly until the test lets it go.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const files = srv.ctx.files;
  const assemble = files.assemble.bind(files);
  files.assemble = async (...args) => {
    await gate;
    return assemble(...args);
  };

  const target = await srv.createTarget('bitaxe', '');
  const userToken = await srv.createUser('u');
  const factory = srv.client(await srv.createFactory('f'), proxy.url);
  const user = srv.client(userToken, proxy.url);
  const id = await srv.submitJob(userToken, { target: 'bitaxe', name: 'j', script: 'true' });
  const w = await startScriptedWorker({ url: proxy.url }, factory, target);
  t.equal((await w.ping(5000)).job?.id, id);

  const chunk = await w.api.post<{ id: string }>(`/0/worker/job/${id}/chunk`, undefined, {
    body: Buffer.from('log\n'),
  });
  const commit = { path: '/work/output/log.txt', size: 4, chunks: [chunk.id], commit_id: newToken(26) };
  t.same(await w.api.post(`/1/worker/job/${id}/output`, commit), { complete: false }, 'not stored yet');
  await t.rejects(w.api.post(`/0/worker/job/${id}/complete`, { failed: false }), {
    status: 409,
    message: /still has 1 output commit/,
  });
  release();
  let res = await w.api.post<{ complete: boolean }>(`/1/worker/job/${id}/output`, commit);
  for (let i = 0; !res.complete && i < 50; i++) res = await w.api.post(`/1/worker/job/${id}/output`, commit);
  t.same(res, { complete: true }, 'the same commit answers complete once stored');
  await w.api.post(`/0/worker/job/${id}/complete`, { failed: false });
  t.match(await user.get<JobOutput[]>(`/0/jobs/${id}/outputs`), [{ path: '/work/output/log.txt', size: 4 }]);
  t.same(proxy.violations, []);
});

// Output commits are asynchronous: `{complete:false}` while the file is being assembled, the job
// cannot complete meanwhile (409), and the same commit answers complete once stored. The server
// runs in-process here so that the assembly can be held back on purpose.
import t from 'tap';
import { DEFAULTS } from '../../server/config.js';
import { startServer as startInProcess } from '../../server/run.js';
import { silentLogger } from '../../shared/log.js';
import { HttpClient } from '../../shared/http.js';
import { newToken } from '../../shared/ids.js';
import type { JobOutput } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { startScriptedWorker } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

t.test('a pending output commit holds back job completion', async (t) => {
  const adminToken = newToken();
  const server = await startInProcess(
    { ...DEFAULTS, dataDir: tempDir(t, 'mvm-commit-'), host: '127.0.0.1', port: 0 },
    { log: silentLogger(), adminToken },
  );
  t.teardown(() => server.close());
  const proxy = await startConformanceProxy(server.url);
  t.teardown(() => proxy.close());

  // Hold every assembly until the test lets it go.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const files = server.ctx.files;
  const assemble = files.assemble.bind(files);
  files.assemble = async (...args) => {
    await gate;
    return assemble(...args);
  };

  const admin = new HttpClient({ baseUrl: server.url, token: adminToken });
  const target = (await admin.post<{ id: string }>('/0/admin/target', { name: 'bitaxe', desc: '' })).id;
  const userToken = (await admin.post<{ token: string }>('/0/users', { name: 'u' })).token;
  const factory = new HttpClient({
    baseUrl: proxy.url,
    token: (await admin.post<{ token: string }>('/0/admin/factory', { name: 'f' })).token,
  });
  const user = new HttpClient({ baseUrl: proxy.url, token: userToken });
  const id = (
    await user.post<{ id: string }>('/0/jobs', {
      name: 'j',
      target: 'bitaxe',
      output_rules: [],
      tasks: [{ name: 't', script: 'true', env_clear: false, env: {} }],
    })
  ).id;
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

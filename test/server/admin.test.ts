// Admin side: targets and redirects (resolved at submit), factories enable/disable, users,
// job listings (paged user list, admin lists), the dispatch hold switch.
import t from 'tap';
import type { Factory, Job, JobListEntryResultsPage, Target, User } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { leaseJob } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

t.test('targets, factories, users and job listings', async (t) => {
  const srv = await startServerInProcess(t);
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const admin = srv.client(srv.adminToken, proxy.url);

  const gamma = await srv.createTarget('gamma');
  const bitaxe = (await admin.post<{ id: string }>('/0/admin/target', { name: 'bitaxe', desc: 'any Bitaxe' })).id;
  await admin.put(`/0/admin/targets/${bitaxe}/redirect`, { redirect: gamma });
  const targets = await admin.get<Target[]>('/0/admin/targets');
  t.match(
    targets.find((x) => x.name === 'bitaxe'),
    { id: bitaxe, redirect: gamma, desc: 'any Bitaxe' },
  );

  const aliceToken = await srv.createUser('alice');
  const alice = srv.client(aliceToken, proxy.url);
  const users = await admin.get<User[]>('/0/users');
  t.match(users, [{ name: 'alice', privileges: [] }]);
  t.match(await admin.get<User[]>('/0/users', { query: { name: 'alice' } }), [{ name: 'alice' }]);
  t.match(await admin.get<User>(`/0/users/${users[0].id}`), { name: 'alice' });
  t.same(await alice.get('/0/quota'), { max_bytes_per_input: 1024 * 1024 * 1024 });

  const ids: string[] = [];
  for (let i = 0; i < 5; i++)
    ids.push(await srv.submitJob(aliceToken, { target: 'bitaxe', name: `job ${i}`, tags: { n: String(i) } }));
  const j0 = await alice.get<Job>(`/0/job/${ids[0]}`);
  t.match(j0, { target: 'bitaxe', target_real: 'gamma' }, 'the name was resolved through the redirect');

  const factoryToken = await srv.createFactory('lab');
  const factory = srv.client(factoryToken, proxy.url);
  t.same(await factory.get('/0/factory/ping'), { ok: true });
  t.same(await leaseJob(factory, [bitaxe]), null, 'jobs run on the resolved target, not the redirecting one');
  t.same(await leaseJob(factory, [gamma]), { job: ids[0], target: gamma });
  const fid = (await admin.get<Factory[]>('/0/admin/factories'))[0].id;
  await admin.post(`/0/admin/factory/${fid}/disable`);
  t.match(await admin.get<Factory[]>('/0/admin/factories'), [{ name: 'lab', enable: false, last_ping: String }]);
  t.same(await leaseJob(factory, [gamma]), null, 'a disabled factory gets no lease');
  await admin.post(`/0/admin/factory/${fid}/enable`, { hold_workers: false });
  await admin.post('/0/control/hold');
  t.same(await leaseJob(factory, [gamma]), null, 'no leases while the server is on hold');
  await admin.post('/0/control/resume');
  t.match(await leaseJob(factory, [gamma]), { target: gamma });

  const page1 = await alice.get<JobListEntryResultsPage>('/1/jobs', { query: { limit: 2 } });
  t.same(
    page1.items.map((j) => j.id),
    ids.slice(0, 2),
  );
  t.match(page1.items[0], { name: 'job 0', state: 'queued', target: 'bitaxe', target_id: gamma, cancelled: false });
  const page2 = await alice.get<JobListEntryResultsPage>('/1/jobs', {
    query: { limit: 2, page_token: page1.next_page },
  });
  t.same(
    page2.items.map((j) => j.id),
    ids.slice(2, 4),
  );
  const recent = await alice.get<JobListEntryResultsPage>('/1/jobs', { query: { recent_first: true, limit: 1 } });
  t.same(
    recent.items.map((j) => j.id),
    [ids[4]],
  );
  t.same(
    (await alice.get<JobListEntryResultsPage>('/1/jobs', { query: { tag: 'n=3' } })).items.map((j) => j.id),
    [ids[3]],
  );
  t.equal(
    (await srv.client(await srv.createUser('bob'), proxy.url).get<JobListEntryResultsPage>('/1/jobs')).items.length,
    0,
    'users see only their jobs',
  );

  await alice.post(`/0/jobs/${ids[1]}/cancel`);
  t.equal((await admin.get<Job[]>('/0/admin/jobs')).length, 5);
  t.equal((await admin.get<Job[]>('/0/admin/jobs', { query: { active: true } })).length, 4);
  t.same(
    (await admin.get<Job[]>('/0/admin/jobs', { query: { completed: 10 } })).map((j) => j.id),
    [ids[1]],
  );
  t.match(await admin.get<Job>(`/0/admin/jobs/${ids[1]}`), { state: 'failed', cancelled: true });
  t.equal((await admin.get<JobListEntryResultsPage>('/1/admin/jobs')).items.length, 5);
  t.same(proxy.violations, []);
});

// Everything the factory sends a job server, and everything it gets back, matches the buildomat
// OpenAPI document: the same factory works against a real buildomat server.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { waitFor } from '../helpers/mvm-process.js';
import { liveRows, startFactory, startLab } from './fixture.js';

t.test('a job placed and cleaned up through a validating proxy: no violation', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const proxy = await startConformanceProxy(lab.srv.url);
  t.teardown(() => proxy.close());
  writeFileSync(
    lab.configFile,
    readFileSync(lab.configFile, 'utf8').replace(`baseurl = "${lab.srv.url}"`, `baseurl = "${proxy.url}"`),
  );
  const f = await startFactory(lab);
  // An orphan for phase 2 to find.
  await lab.factoryApi.post('/0/factory/worker', { target: lab.targetIds.get('bitaxe'), wait_for_flush: false });
  const job = await lab.submit('bitaxe', 'echo hello');
  t.equal((await lab.waitJob(job, ['completed', 'failed'])).state, 'completed');
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instance destroyed', 20_000, 50);
  t.equal(await f.stop(), 0);
  t.same(proxy.violations, [], 'no request or response outside the spec');
  const seen = proxy.seen();
  // A pass reads its workers with one factory_workers call; factory_worker_get is left for an
  // agent that exited before its worker was recycled, which a job's ordinary life need not meet.
  for (const op of [
    'targets_list',
    'factory_lease',
    'factory_worker_create',
    'factory_worker_associate',
    'factory_workers',
    'factory_worker_flush',
    'factory_worker_destroy',
  ]) {
    t.ok(seen.has(op), `${op} exercised`);
  }
});

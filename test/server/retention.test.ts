// Retention on the safety tick: the inputs' and outputs' files and the events of jobs that ended
// longer ago than --retention are removed, younger jobs' kept. The server runs in-process and the
// test moves its clock by days instead of waiting (test/faults/disk-reclaim.test.ts runs the
// process with `mvm server gc`).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Job, JobEvent, JobOutput } from '../../shared/api/types.js';
import { waitFor } from '../helpers/mvm-process.js';
import { startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

const DAY = 86_400_000;

t.test('jobs ended longer ago than the retention period lose their files and events', async (t) => {
  const srv = await startServerInProcess(t, { config: { tickMs: 3_600_000, retentionMs: 7 * DAY } });
  const target = await srv.createTarget('bitaxe');
  const userToken = await srv.createUser('gus');
  const user = srv.client(userToken);
  const factory = srv.client(await srv.createFactory('lab'));

  /** A job that logs a line, stores one output and completes. */
  async function runJob(name: string): Promise<string> {
    const id = await srv.submitJob(userToken, { target: 'bitaxe', name });
    const w = await startScriptedWorker(srv, factory, target);
    t.equal((await w.ping(5000)).job?.id, id);
    await w.append(id, 'stdout', `${name} ran`, 0);
    const c = await w.api.post<{ id: string }>(`/0/worker/job/${id}/chunk`, undefined, { body: Buffer.from(name) });
    const commit = { path: '/work/out.txt', size: name.length, chunks: [c.id], commit_id: name };
    let res = await w.api.post<{ complete: boolean }>(`/1/worker/job/${id}/output`, commit);
    for (let i = 0; !res.complete && i < 100; i++) res = await w.api.post(`/1/worker/job/${id}/output`, commit);
    await w.api.post(`/0/worker/job/${id}/complete`, { failed: false });
    return id;
  }
  const outputs = (id: string) => user.get<JobOutput[]>(`/0/jobs/${id}/outputs`);
  const events = (id: string) => user.get<JobEvent[]>(`/0/jobs/${id}/events`);
  const outputFile = async (id: string) => join(srv.dataDir, 'files', 'outputs', id, (await outputs(id))[0].id);

  const old = await runJob('old');
  const oldFile = await outputFile(old);
  t.ok(existsSync(oldFile), 'the output is stored');
  srv.clock.advance(3 * DAY);
  const recent = await runJob('recent');
  srv.clock.advance(5 * DAY); // old ended 8 days ago, recent 5

  srv.tick();
  // The run goes on after the tick returns; it logs what it reclaimed at its end.
  const reclaimed = await waitFor(() => srv.logs.find((l) => l.includes('disk reclaimed')), 'disk reclaimed');
  t.match(reclaimed, /"expiredJobs":1/, 'one job reclaimed');
  t.same(await events(old), [], "the old job's events are gone");
  t.same(await outputs(old), [], "the old job's outputs are gone");
  t.notOk(existsSync(oldFile), 'and their files');
  t.match(await user.get<Job>(`/0/job/${old}`), { state: 'completed' }, 'the job itself stays');
  t.match(
    await outputs(recent),
    [{ path: '/work/out.txt', size: 6 }],
    'a job younger than the period keeps its output',
  );
  t.ok(existsSync(await outputFile(recent)), 'and its file');
  t.ok(
    (await events(recent)).some((e) => e.payload === 'recent ran'),
    'and its events',
  );
});

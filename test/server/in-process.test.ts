// The in-process server the API tests run on leaves nothing behind when closed: no listening
// socket, connection, interval or timer keeping the process alive, the database closed, no call
// still held, even when it is closed in the middle of long-polls and a watch stream. (The process
// metrics' collectors are made once per process and shared: shared/observe/process-metrics.ts.)
import t, { type Test } from 'tap';
import { request } from 'undici';
import type { WorkerPingResult } from '../../shared/api/types.js';
import { waitFor } from '../helpers/mvm-process.js';
import { leaseJob, startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess, type InProcessServer } from '../helpers/server-inprocess.js';

/** What keeps this process alive, counted by kind (TCPServerWrap, TCPSocketWrap, Timeout…). */
function resources(): Record<string, number> {
  const n: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) n[r] = (n[r] ?? 0) + 1;
  return n;
}

/** A server put through its paces, with calls still held when the test closes it. */
async function busyServer(t: Test) {
  const srv = await startServerInProcess(t, { config: { tickMs: 50 } });
  const target = await srv.createTarget('bitaxe');
  const userToken = await srv.createUser('ivy');
  const factory = srv.client(await srv.createFactory('lab'));
  const id = await srv.submitJob(userToken, { target: 'bitaxe' });
  const w = await startScriptedWorker(srv, factory, target);
  t.equal((await w.ping(5000)).job?.id, id);
  await w.append(id, 'stdout', 'hello', 0);
  const chunk = await w.api.post<{ id: string }>(`/0/worker/job/${id}/chunk`, undefined, { body: Buffer.from('x') });
  await w.api.post(`/1/worker/job/${id}/output`, { path: '/work/x', size: 1, chunks: [chunk.id], commit_id: 'c' });
  t.equal((await fetch(`${srv.url}/metrics`)).status, 200, 'metrics scraped');
  // Held when the server closes: a factory's lease long-poll, an idle worker's ping, a watch stream.
  const idle = await startScriptedWorker(srv, factory, target);
  const held = {
    lease: leaseJob(factory, [target], 60_000),
    ping: idle.api.get<WorkerPingResult>('/0/worker/ping', { query: { wait_ms: 60_000 } }),
    watch: request(`${srv.url}/0/jobs/${id}/watch`, { headers: { authorization: `Bearer ${userToken}` } }).then((r) =>
      r.body.text(),
    ),
  };
  await waitFor(() => srv.ctx.heldPings.has(idle.id), 'the ping to be held');
  return { srv, held };
}

async function closeAndCheck(t: Test, srv: InProcessServer, held: object) {
  await srv.close();
  const ended = await Promise.allSettled(Object.values(held));
  t.ok(
    ended.every((r) => r.status === 'fulfilled' || r.status === 'rejected'),
    'held calls ended',
  );
  t.equal(srv.ctx.sqlite.open, false, 'the database is closed');
  t.equal(srv.ctx.heldPings.size, 0, 'no ping held');
  t.equal(srv.ctx.pendingCommits.size, 0, 'no output commit pending');
  t.ok(srv.ctx.stopping.aborted, 'long-polls and streams were told to stop');
}

t.test('a closed in-process server leaves no handle, timer or open database', async (t) => {
  const before = resources();
  const { srv, held } = await busyServer(t);
  t.ok((resources().TCPServerWrap ?? 0) > (before.TCPServerWrap ?? 0), 'the server was listening');
  await closeAndCheck(t, srv, held);
  // Handles finish closing on the next turns of the event loop.
  const same = () => JSON.stringify(resources()) === JSON.stringify(before);
  await waitFor(same, 'the active resources to return to what they were', 10_000).catch(() => undefined);
  t.same(resources(), before, 'nothing the server opened keeps the process alive');
  await t.resolves(srv.close(), 'closing twice is harmless');
  t.doesNotThrow(() => srv.tick(), 'a tick after close does nothing');
});

// Following a job live: the `wait_ms` long-poll on events and buildomat's watch stream (SSE).
import t from 'tap';
import { request } from 'undici';
import type { JobEvent } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { startScriptedWorker } from '../helpers/server.js';
import { startServerInProcess } from '../helpers/server-inprocess.js';

interface Sse {
  event: string;
  id?: string;
  data: string;
}

/** Reads server-sent events until the stream ends. */
async function readSse(url: string, token: string, headers: Record<string, string> = {}): Promise<Sse[]> {
  const r = await request(url, { headers: { authorization: `Bearer ${token}`, ...headers }, bodyTimeout: 30_000 });
  if (r.statusCode !== 200) throw new Error(`watch: ${r.statusCode} ${await r.body.text()}`);
  if (!String(r.headers['content-type']).startsWith('text/event-stream')) throw new Error('watch: not an event stream');
  const out: Sse[] = [];
  let buf = '';
  for await (const c of r.body) {
    buf += Buffer.from(c as Buffer).toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev: Sse = { event: 'message', data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const [k, ...v] = line.split(':');
        const val = v.join(':').replace(/^ /, '');
        if (k === 'event') ev.event = val;
        else if (k === 'id') ev.id = val;
        else if (k === 'data') ev.data = val;
      }
      if (block.split('\n').some((l) => !l.startsWith(':'))) out.push(ev);
    }
  }
  return out;
}

t.test('events long-poll and watch stream', async (t) => {
  const srv = await startServerInProcess(t);
  const proxy = await startConformanceProxy(srv.url);
  t.teardown(() => proxy.close());
  const target = await srv.createTarget('bitaxe');
  const userToken = await srv.createUser('erin');
  const user = srv.client(userToken, proxy.url);
  const id = await srv.submitJob(userToken, { target: 'bitaxe' });

  // The watch starts while the job is queued and must see everything until completion.
  const watched = readSse(`${proxy.url}/0/jobs/${id}/watch`, userToken);
  const w = await startScriptedWorker(srv, srv.client(await srv.createFactory('lab'), proxy.url), target, proxy.url);
  t.equal((await w.ping(5000)).job?.id, id);

  // A long-poll past the last event is answered as soon as the worker appends.
  const seen = (await user.get<JobEvent[]>(`/0/jobs/${id}/events`)).length;
  const held = user.get<JobEvent[]>(`/0/jobs/${id}/events`, { query: { minseq: seen + 1, wait_ms: 20_000 } });
  await w.append(id, 'stdout', 'first line', 0);
  const got = await held;
  t.same(
    got.map((e) => e.payload),
    ['first line'],
  );
  t.same(
    await user.get(`/0/jobs/${id}/events`, { query: { minseq: seen + 2, wait_ms: 200 } }),
    [],
    'nothing new: empty after wait_ms',
  );

  await w.append(id, 'stdout', 'second line', 0);
  await w.api.post(`/0/worker/job/${id}/task/0/complete`, { failed: true });
  await w.api.post(`/0/worker/job/${id}/complete`, { failed: true });
  t.same(
    await user.get(`/0/jobs/${id}/events`, { query: { minseq: 99, wait_ms: 20_000 } }),
    [],
    'a complete job ends the long-poll at once',
  );

  const stream = await watched;
  const states = stream.filter((e) => e.event === 'state').map((e) => e.data);
  t.same(states, ['queued', 'running', 'failed'], 'state changes');
  const jobEvents = stream.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data) as JobEvent);
  t.same(
    jobEvents.map((e) => e.seq),
    [1, 2, 3],
  );
  t.same(jobEvents.map((e) => e.payload).slice(1), ['first line', 'second line']);
  t.same(stream.at(-1), { event: 'complete', id: 'seq-3', data: '-' }, 'ends with complete');

  // Resuming: minseq, and Last-Event-ID (which wins).
  const resumed = await readSse(`${proxy.url}/0/jobs/${id}/watch?minseq=3`, userToken);
  t.same(
    resumed.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data).seq),
    [3],
  );
  const lei = await readSse(`${proxy.url}/0/jobs/${id}/watch?minseq=1`, userToken, { 'last-event-id': 'seq-2' });
  t.same(
    lei.filter((e) => e.event === 'job').map((e) => JSON.parse(e.data).seq),
    [3],
  );
  t.same(proxy.violations, []);
});

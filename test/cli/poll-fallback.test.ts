// Against a server that does not hold requests (a real buildomat server ignores `wait_ms`), `mvm job
// run --wait` still follows the job, pausing about a second after each empty answer instead of
// hammering. The server here is the real `mvm server` behind a proxy that strips `wait_ms`.
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { startMvm, stopAllMvm, waitFor } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { ScriptedWorker } from './scripted-worker.js';

interface Seen {
  at: number;
  path: string;
  /** Bytes of the answer: "[]" is an empty event list. */
  body: string;
}

/** A proxy that forwards everything but drops the `wait_ms` query parameter, as buildomat would ignore it. */
async function startNoWaitProxy(target: string) {
  const seen: Seen[] = [];
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? '/', 'http://x');
    u.searchParams.delete('wait_ms');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
    }
    try {
      const up = await request(target + u.pathname + u.search, {
        method: req.method as never,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await up.body.arrayBuffer());
      seen.push({ at: Date.now(), path: u.pathname + u.search, body: body.toString('utf8') });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(up.headers)) {
        if (typeof v === 'string' && !['connection', 'keep-alive', 'transfer-encoding', 'content-length'].includes(k))
          out[k] = v;
      }
      res.writeHead(up.statusCode, out);
      res.end(body);
    } catch (err) {
      res.destroy(err as Error);
    }
  };
  // answer() handles its own errors: a throw out of it is a test bug, left to fail the run
  const server = createServer((req, res) => void answer(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

t.test('job run --wait polls a non-holding server about once a second', async (t) => {
  const dir = tempDir(t);
  const server = await startServer(t, { env: { MVM_LOG_LEVEL: 'warn' } });
  t.teardown(() => stopAllMvm());
  const conformance = await startConformanceProxy(server.url);
  t.teardown(() => conformance.close());
  const proxy = await startNoWaitProxy(conformance.url);
  t.teardown(() => proxy.close());

  const targetId = await server.createTarget('nano3');
  const factoryToken = await server.createFactory('lab');
  const userToken = await server.createUser('ci');
  writeFileSync(join(dir, 'p.sh'), 'true\n');
  writeFileSync(join(dir, 'profile.toml'), '');

  const cli = startMvm(['job', 'run', '--target', 'nano3', '--script', join(dir, 'p.sh'), '--wait'], {
    env: { MVM_URL: proxy.url, MVM_TOKEN: userToken, MVM_PROFILE: join(dir, 'profile.toml'), MVM_LOG_LEVEL: 'warn' },
  });
  const worker = new ScriptedWorker(server, conformance.url, factoryToken);
  t.teardown(() => worker.destroy());
  const job = await worker.takeJob(targetId);
  const eventsCalls = () => proxy.seen.filter((s) => s.path.startsWith(`/0/jobs/${job.id}/events`));
  // Let the CLI find nothing new a few times, then give it an event.
  await waitFor(() => eventsCalls().filter((s) => s.body === '[]').length >= 3, 'three empty polls', 30_000);
  await worker.append(job.id, [{ stream: 'stdout', payload: 'polled into view', task: 0 }]);
  await cli.waitForLine(/stdout\.0\s+polled into view/, 30_000);
  await worker.completeTask(job.id, 0, false);
  const completedAt = Date.now();
  await worker.completeJob(job.id, false);
  t.equal(await cli.exited, 0, cli.stderr.join('\n'));

  const calls = eventsCalls();
  t.ok(
    calls.every((c) => !c.path.includes('wait_ms')),
    'the server never saw wait_ms',
  );
  // After every empty answer while the job ran, the next request came no sooner than ~1 s later.
  let checked = 0;
  for (let i = 1; i < calls.length; i++) {
    // (Once the job has ended the CLI drains what is left at once.)
    if (calls[i - 1].body !== '[]' || calls[i].at >= completedAt) continue;
    const gap = calls[i].at - calls[i - 1].at;
    if (gap < 900) t.fail(`request ${i} came ${gap} ms after an empty answer`);
    checked++;
  }
  t.ok(checked >= 3, `${checked} pauses checked`);
  t.same(conformance.violations, []);
});

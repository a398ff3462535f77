// Fault: the SQLite database locked by another process (an open BEGIN EXCLUSIVE, as an operator's
// `sqlite3` session, a backup or a VACUUM would hold it) — the server's, then the factory's.
// Server: reads go on (WAL); a write waits at most the busy timeout and is then refused with a
// clear, retryable 503 (never a 500, never a stack, never a partial row or file); a running
// agent rides it out. Factory: its passes fail and are retried; once the lock is gone the job
// runs once on one testbed and everything converges. Nothing acknowledged is lost.
import t from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import type { Job } from '../../shared/api/types.js';
import { BUSY_TIMEOUT_MS } from '../../server/run.js';
import { waitFor } from '../helpers/mvm-process.js';
import { agentLog, startLab } from '../agent/harness.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { holdLock } from './lib/sqlite-lock.js';
import { assertNoLeaks, MARK_ENV, newMark } from './lib/procs.js';
import { payloads, startFaultLab } from './lib/stack.js';

/** The server's busy timeout and slack for a loaded machine. */
const WAIT_BOUND_MS = BUSY_TIMEOUT_MS + 1500;

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

t.test('server database locked: 503 within a bound, reads go on, nothing partial, nothing lost', async (t) => {
  const lab = await startLab(t);
  const mark = newMark();
  const gate = join(lab.dir, 'go');
  const job = await lab.submit({
    tasks: [
      {
        name: 'steady',
        env_clear: false,
        env: { [MARK_ENV]: mark },
        script: `i=0\nwhile [ ! -e '${gate}' ]; do i=$((i+1)); echo "line $i"; sleep 0.02; done\necho "total $i"\necho kept > "$MVM_OUTPUT_DIR/result.txt"`,
      },
    ],
    output_rules: ['/work/output/*'],
  });
  // Another job waits for an input, to try a file upload while the database is locked.
  const waiting = await lab.srv.submitJob(lab.userToken, { target: 'bitaxe', inputs: ['fw.bin'] });
  const w = await lab.worker(job);
  const agent = lab.startAgent(w.bootstrap, join(lab.dir, 'agent'));
  await waitFor(
    async () => agentLog(await lab.events(job)).some((l) => l.startsWith('stdout[0]: line 20')),
    'the job under way',
    30_000,
    100,
  );
  const jobsBefore = (await lab.user.get<Job[]>('/1/jobs')).length;
  const chunksDir = join(lab.srv.dataDir, 'files', 'chunks');
  const filesBefore = filesUnder(chunksDir).length;

  const lock = await holdLock(t, join(lab.srv.dataDir, 'server.sqlite'));
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    body?: Buffer | string,
    contentType = 'application/json',
  ) => {
    const start = Date.now();
    const r = await request(lab.srv.url + path, {
      method,
      headers: { authorization: `Bearer ${lab.userToken}`, 'content-type': contentType },
      body,
    });
    const text = await r.body.text();
    return {
      status: r.statusCode,
      ms: Date.now() - start,
      retryAfter: r.headers['retry-after'],
      body: text ? JSON.parse(text) : undefined,
    };
  };

  const read = await call('GET', `/0/job/${job}`);
  t.equal(read.status, 200, 'a read is answered while the database is locked (WAL)');
  t.ok(read.ms < WAIT_BOUND_MS, `at once (${read.ms} ms): the agent's refused writes do not stall the server`);
  const submit = await call(
    'POST',
    '/0/jobs',
    JSON.stringify({
      name: 'x',
      target: 'bitaxe',
      output_rules: [],
      tasks: [{ name: 'a', script: 'true', env_clear: false, env: {} }],
      inputs: [],
      tags: {},
    }),
  );
  t.equal(submit.status, 503, 'a write is refused with 503, not 500');
  t.ok(submit.ms < WAIT_BOUND_MS, `after waiting ${submit.ms} ms, within the bound`);
  t.equal(submit.retryAfter, '1', 'Retry-After says when to try again');
  t.match(
    submit.body,
    { error_code: 'ServiceUnavailable', message: /database is locked by another process.*nothing was stored: retry/ },
    'the message says what happened and what to do',
  );
  t.notMatch(JSON.stringify(submit.body), /\bat \S+:\d+|SqliteError/, 'no stack trace in the answer');
  const chunk = await call('POST', `/0/jobs/${waiting}/chunk`, Buffer.alloc(4096, 1), 'application/octet-stream');
  t.equal(chunk.status, 503, 'a chunk upload is refused the same way');
  t.ok(chunk.ms < WAIT_BOUND_MS, `within the bound (${chunk.ms} ms)`);
  t.equal(filesUnder(chunksDir).length, filesBefore, 'the refused chunk left no file');
  t.same(filesUnder(join(lab.srv.dataDir, 'tmp')), [], 'nor anything in tmp/');
  // The agent meets the lock too, and retries.
  await agent.waitForLine(
    /event delivery failed; retrying.*database is locked|database is locked.*event delivery failed/,
    20_000,
  );
  t.pass('the agent was refused and keeps retrying');

  await lock.release();
  t.equal((await lab.user.get<Job[]>('/1/jobs')).length, jobsBefore, 'the refused submission created no job');
  writeFileSync(gate, '');
  t.equal(await agent.exited, 0, 'the agent finished once the lock was gone');
  t.equal((await lab.waitDone(job)).state, 'completed');
  const out = agentLog(await lab.events(job)).filter((l) => l.startsWith('stdout[0]: '));
  const total = Number(/total (\d+)$/.exec(out.at(-1) ?? '')?.[1]);
  t.same(
    out.slice(0, -1),
    Array.from({ length: total }, (_, i) => `stdout[0]: line ${i + 1}`),
    `all ${total} lines, once each, in order`,
  );
  const outputs = await lab.outputs(job);
  t.match(outputs, [{ path: '/work/output/result.txt' }]);
  t.equal(outputs[0]?.body.toString(), 'kept\n', 'the output is intact');
  // And writes work again.
  const retried = await call('POST', `/0/jobs/${waiting}/chunk`, Buffer.alloc(4096, 1), 'application/octet-stream');
  t.equal(retried.status, 201, 'the retried upload is stored');
  await assertNoLeaks(t, mark);
});

t.test('factory database locked: passes retried, the job runs once, everything converges', async (t) => {
  const lab = await startFaultLab(t, {
    testbeds: [
      { name: 'gamma-1', targets: ['bitaxe'] },
      { name: 'gamma-2', targets: ['bitaxe'] },
    ],
  });
  const factory = await lab.factory();
  const gate = join(lab.dir, 'go');
  const runs = join(lab.dir, 'runs');
  const script = `echo run >> '${runs}'\nwhile [ ! -e '${gate}' ]; do sleep 0.05; done`;
  // A running job whose end the factory must record while locked, and a new one it must place.
  const first = await lab.submitTasks('bitaxe', [{ name: 'first', script }]);
  await waitFor(() => liveRows(lab.dbFile).some((r) => r.state === 'running'), 'the first job running', 60_000, 100);
  const lock = await holdLock(t, lab.dbFile);
  const second = await lab.submitTasks('bitaxe', [{ name: 'second', script }]);
  writeFileSync(gate, '');
  t.equal(
    (await lab.waitJob(first, ['completed', 'failed'], 60_000)).state,
    'completed',
    'the first job completed on the server',
  );
  await factory.waitForLine(/database is locked/, 30_000);
  t.pass('the factory met the lock');
  t.equal(factory.child.exitCode, null, 'and is still running');
  await lock.release();

  t.equal(
    (await lab.waitJob(second, ['completed', 'failed'], 60_000)).state,
    'completed',
    'the second job completed once the lock was gone',
  );
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'every instance destroyed', 30_000, 100);
  const rows = allRows(lab.dbFile) as Array<ReturnType<typeof allRows>[number] & { job: string }>;
  t.equal(rows.filter((r) => r.job === first).length, 1, 'the first job had one instance');
  t.equal(rows.filter((r) => r.job === second).length, 1, 'the second job had one instance');
  t.ok(
    rows.every((r) => r.state === 'destroyed' && r.failure === null),
    'all destroyed without failure',
  );
  t.same(await lab.workers(), [], 'no worker left (orphans of failed passes deleted)');
  t.equal(payloads(await lab.events(second), 'task').filter((p) => p.startsWith('starting task')).length, 1);
  t.equal(readFileSync(runs, 'utf8'), 'run\nrun\n', 'each job ran once');
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

// Fault: the server does what the agent asked but the answer never arrives (a server that
// commits and dies before replying, a connection cut at the wrong moment). The agent retries;
// every retried call must be idempotent on the server: no event stored twice, one output per
// file, the task and the job completed once. This is the one window a random kill -9 of the
// server (server-outage.test.ts) can only hit by chance, so here it is hit on purpose.
import t from 'tap';
import { join } from 'node:path';
import { agentLog, startLab } from '../agent/harness.js';
import { startScriptedWorker } from '../helpers/server.js';
import { startLossyProxy } from './lib/http-proxy.js';
import { assertNoLeaks, MARK_ENV, newMark } from './lib/procs.js';

t.test('answers lost after the server acted: retries store nothing twice', async (t) => {
  const lab = await startLab(t);
  const mark = newMark();
  // Lose the first answer to each kind of write the agent makes, and a few more appends.
  const seen = new Map<string, number>();
  const loseAt: Record<string, number[]> = {
    append: [1, 2, 5],
    chunk: [1],
    output: [1],
    'task-complete': [1],
    'job-complete': [1],
  };
  const kindOf = (method: string, path: string): string | undefined => {
    if (method !== 'POST') return undefined;
    if (/\/1\/worker\/job\/[^/]+\/append$/.test(path)) return 'append';
    if (/\/worker\/job\/[^/]+\/chunk$/.test(path)) return 'chunk';
    if (/\/worker\/job\/[^/]+\/output$/.test(path)) return 'output';
    if (/\/worker\/job\/[^/]+\/task\/\d+\/complete$/.test(path)) return 'task-complete';
    if (/\/worker\/job\/[^/]+\/complete$/.test(path)) return 'job-complete';
    return undefined;
  };
  const proxy = await startLossyProxy(lab.srv.url, (method, path) => {
    const kind = kindOf(method, path.split('?')[0]);
    if (!kind) return 'pass';
    const n = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, n);
    return loseAt[kind].includes(n) ? 'lose-answer' : 'pass';
  });
  t.teardown(() => proxy.close());

  const job = await lab.submit({
    tasks: [
      {
        name: 'lines',
        env_clear: false,
        env: { [MARK_ENV]: mark },
        // Output in bursts so that the agent sends several batches.
        script:
          'for b in 1 2 3 4 5 6; do for i in $(seq 1 150); do echo "b$b line $i"; done; sleep 0.2; done\necho result > "$MVM_OUTPUT_DIR/result.txt"',
      },
    ],
    output_rules: ['/work/output/*'],
  });
  const w = await lab.worker(job);
  const agent = lab.startAgent(w.bootstrap, join(lab.dir, 'agent'), [], proxy.url);
  t.equal(await agent.exited, 0, 'the agent finished the job');
  t.equal((await lab.waitDone(job)).state, 'completed', 'the job completed');
  t.same(
    [...new Set(proxy.lost.map((l) => l.replace(/^POST \S+\/(append|chunk|output|complete)$/, '$1')))].sort(),
    ['append', 'chunk', 'complete', 'output'],
    `answers were lost: ${proxy.lost.length}`,
  );

  const events = await lab.events(job);
  const lines = agentLog(events).filter((l) => /^stdout\[0\]: b\d line \d+$/.test(l));
  const expected = [1, 2, 3, 4, 5, 6].flatMap((b) =>
    Array.from({ length: 150 }, (_, i) => `stdout[0]: b${b} line ${i + 1}`),
  );
  t.equal(lines.length, expected.length, 'every line stored exactly once');
  t.same(lines, expected, 'in order');
  t.equal(agentLog(events).filter((l) => l.startsWith('task[0]: process exited')).length, 1, 'one exit event');
  const outputs = await lab.outputs(job);
  t.match(outputs, [{ path: '/work/output/result.txt', size: 7 }], 'one output for the file');
  t.equal(outputs.length, 1);
  t.equal(outputs[0].body.toString(), 'result\n');
  await assertNoLeaks(t, mark);
});

t.test('a resent batch is recognised by its microsecond times; equal lines in one millisecond are kept', async (t) => {
  const lab = await startLab(t);
  const job = await lab.submit({ script: 'true' });
  const factory = lab.factory;
  const w = await startScriptedWorker(lab.srv, factory, lab.target, lab.srv.url, { job });
  t.equal((await w.ping(5000)).job?.id, job);
  // Two batches of the same line, all within one millisecond: different events (a `yes` burst).
  const batch = (from: number) =>
    Array.from({ length: 3 }, (_, i) => ({
      stream: 'stdout',
      payload: 'y',
      task: 0,
      time: `2030-01-01T00:00:00.123${String(from + i).padStart(3, '0')}Z`,
    }));
  await w.api.post(`/1/worker/job/${job}/append`, batch(100));
  await w.api.post(`/1/worker/job/${job}/append`, batch(200));
  await w.api.post(`/1/worker/job/${job}/append`, batch(200)); // the second one resent
  const ys = (await lab.events(job)).filter((e) => e.stream === 'stdout');
  t.equal(ys.length, 6, 'the two distinct batches are stored, the resent one is not');
  t.ok(
    ys.every((e) => e.time_remote === '2030-01-01T00:00:00.123Z'),
    'time_remote still reads at millisecond precision',
  );
  // A resent batch after something else was stored is not the job's tail: stored again, as sent.
  await w.append(job, 'stderr', 'other', 0);
  await w.api.post(`/1/worker/job/${job}/append`, batch(200));
  t.equal((await lab.events(job)).filter((e) => e.stream === 'stdout').length, 9);
});

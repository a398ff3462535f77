import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTask, type TaskRunOptions } from '../../agent/task.js';
import { processAlive as isAlive } from '../../shared/process-tree.js';
import { silentLogger } from '../../shared/log.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

function setup(
  t: { teardown(fn: () => void | Promise<void>): void },
  script: string,
  extra: Partial<TaskRunOptions> = {},
) {
  const dir = tempDir(t);
  const lines: Array<[string, string]> = [];
  const notes: string[] = [];
  const ac = new AbortController();
  const run = runTask(
    {
      job: 'J',
      task: 3,
      script,
      scriptFile: join(dir, 'task.sh'),
      cwd: dir,
      env: { PATH: process.env.PATH!, FOO: 'bar' },
    },
    {
      agentDir: dir,
      onLine: (s, l) => lines.push([s, l]),
      onNote: (m) => notes.push(m),
      signal: ac.signal,
      graceMs: 2000,
      log: silentLogger(),
      ...extra,
    },
  );
  return { dir, lines, notes, ac, run };
}

t.test('runs the script with its env and cwd; stdout and stderr as lines; exit code', async (t) => {
  const { dir, lines, run } = setup(t, 'echo "foo=$FOO"; pwd; echo oops >&2; printf "no newline"; exit 7');
  const res = await run;
  t.equal(res.exitCode, 7);
  t.equal(res.stopped, false);
  t.same(
    lines.filter(([s]) => s === 'stdout').map(([, l]) => l),
    ['foo=bar', dir, 'no newline'],
  );
  t.same(
    lines.filter(([s]) => s === 'stderr').map(([, l]) => l),
    ['oops'],
  );
  t.notOk(existsSync(join(dir, 'running-task.json')), 'running-task.json is removed when the task ends');
});

t.test('the agent environment does not leak in', async (t) => {
  process.env.MVM_AGENT_SECRET_TEST = 'leak';
  t.teardown(() => delete process.env.MVM_AGENT_SECRET_TEST);
  const { lines, run } = setup(t, 'echo "[$MVM_AGENT_SECRET_TEST]"');
  await run;
  t.same(lines, [['stdout', '[]']]);
});

t.test('abort stops the whole process tree: SIGTERM, then SIGKILL after the grace period', async (t) => {
  // The script starts a child that ignores SIGTERM and a grandchild; all must die.
  const script = `
trap '' TERM
(trap '' TERM; sleep 300 & echo "grandchild $!"; wait) &
echo "child $!"
echo ready
while true; do sleep 1; done
`;
  const { dir, lines, ac, run } = setup(t, script, { graceMs: 500 });
  await waitFor(
    () => lines.some(([, l]) => l === 'ready') && lines.some(([, l]) => l.startsWith('grandchild')),
    'the tree to start',
    10_000,
  );
  const rec = JSON.parse(readFileSync(join(dir, 'running-task.json'), 'utf8'));
  t.same(Object.keys(rec).sort(), ['job', 'mark', 'pgid', 'task']);
  t.equal(rec.task, 3);
  const pids = [
    rec.pgid,
    ...lines.filter(([, l]) => /^(child|grandchild) \d+$/.test(l)).map(([, l]) => Number(l.split(' ')[1])),
  ];
  t.equal(pids.length, 3);
  const t0 = Date.now();
  ac.abort();
  const res = await run;
  t.equal(res.stopped, true);
  t.ok(Date.now() - t0 < 500 + 5000, 'stopped within the grace period plus the kill wait');
  for (const pid of pids) t.notOk(isAlive(pid), `pid ${pid} is gone`);
  t.equal(res.exitCode, 137, 'SIGKILL reads as exit code 128+9');
});

t.test('processes a task leaves behind are stopped when it exits', async (t) => {
  const { lines, notes, run } = setup(t, 'sleep 300 & echo "bg $!"; exit 0', { graceMs: 500 });
  const res = await run;
  t.equal(res.exitCode, 0);
  const bg = Number(lines.find(([, l]) => l.startsWith('bg '))![1].split(' ')[1]);
  t.notOk(isAlive(bg), 'the background process is gone');
  t.match(notes.join('\n'), /left running/);
});

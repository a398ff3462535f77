// A task in its own PID and mount namespace (agent/task-sandbox.ts), with real processes: nothing
// it starts outlives it — setsid, a subshell that setsids, one ignoring SIGTERM, and processes
// that cleared their environment (env -i), which the environment mark could never find — and the
// job's folder is its /work. Needs a host that allows namespaces (root here); skipped otherwise.
import t from 'tap';
import { chmodSync, chownSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTask, type TaskRunOptions } from '../../agent/task.js';
import { chooseSandbox, containedArgv, type TaskSandbox } from '../../agent/task-sandbox.js';
import { silentLogger } from '../../shared/log.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { liveWithCmdline } from '../faults/lib/procs.js';
import { ensureUser, isRoot } from '../faults/lib/users.js';

const sandbox = await chooseSandbox();
const skip = sandbox.kind === 'mark' ? `no namespaces on this host: ${sandbox.limits.join('; ')}` : false;

/** A number unique to this run, so that concurrent runs never see each other's sleeps. */
const tag = String(40_000 + (process.pid % 9_000));
const sleeps = (n: number) => `sleep ${tag}${n}`;
const liveSleeps = () => liveWithCmdline(`sleep\u0000${tag}`);

function run(
  t: { teardown(fn: () => void | Promise<void>): void },
  script: string,
  sb: TaskSandbox,
  extra: Partial<TaskRunOptions> = {},
  ids: { uid?: number; gid?: number } = {},
) {
  const dir = tempDir(t);
  const work = join(dir, 'work');
  mkdirSync(join(work, 'output'), { recursive: true });
  if (ids.uid !== undefined) {
    // As the agent leaves them for a task user: its folders its own, the way there searchable.
    chmodSync(dir, 0o711);
    chownSync(work, ids.uid, ids.gid ?? ids.uid);
    chownSync(join(work, 'output'), ids.uid, ids.gid ?? ids.uid);
  }
  const lines: string[] = [];
  const notes: string[] = [];
  const ac = new AbortController();
  const done = runTask(
    {
      job: 'J',
      task: 0,
      script,
      scriptFile: join(dir, 'task.sh'),
      cwd: work,
      env: { PATH: process.env.PATH! },
      workSource: work,
      cwdInside: '/work',
      ...ids,
    },
    {
      agentDir: dir,
      onLine: (_s, l) => lines.push(l),
      onNote: (m) => notes.push(m),
      signal: ac.signal,
      graceMs: 1000,
      log: silentLogger(),
      sandbox: sb,
      ...extra,
    },
  );
  return { dir, work, lines, notes, ac, done };
}

const HOSTILE = [
  `setsid ${sleeps(1)} &`,
  `( setsid sh -c 'trap "" TERM; ${sleeps(2)}; true' & )`,
  `setsid bash -c 'exec ${sleeps(3)}' &`,
  `env -i setsid /bin/${sleeps(4)} &`,
  `( env -i /usr/bin/setsid /bin/sh -c 'trap "" TERM; exec /bin/${sleeps(5)}' & )`,
  'sleep 0.3',
  'echo "pwd $(pwd)"',
  'echo hi > /work/output/from-task.txt',
  'echo started',
].join('\n');

t.test('the namespace kind this host allows is found at run time', { skip }, async (t) => {
  t.equal(sandbox.kind, isRoot ? 'pid-namespace' : 'user-namespace');
  t.ok(sandbox.work, 'the job folder can be mounted on /work');
});

for (const kind of ['pid-namespace', 'user-namespace'] as const) {
  t.test(`${kind}: nothing a hostile task started survives it, env -i included`, { skip }, async (t) => {
    t.teardown(() => {
      for (const pid of liveSleeps()) process.kill(pid, 'SIGKILL');
    });
    const { lines, notes, work, done } = run(t, HOSTILE, { ...sandbox, kind });
    const res = await done;
    t.equal(res.exitCode, 0);
    t.same(liveSleeps(), [], 'no sleep of the task is left the moment it returns');
    t.same(lines, ['pwd /work', 'started'], 'the task starts in /work');
    t.equal(readFileSync(join(work, 'output', 'from-task.txt'), 'utf8'), 'hi\n', '/work/output is the job folder');
    const note = notes.find((n) => n.includes('left running'));
    t.match(note, /^exec warning: stopped \d+ processes the task left running \(its PID namespace ended with it\)/);
    for (const n of [1, 2, 3, 4, 5]) t.match(note, `sleep ${tag}${n}`, `sleep ${n} is reported`);
  });
}

t.test('abort: SIGTERM reaches the script and its setsid children, then the namespace ends', { skip }, async (t) => {
  t.teardown(() => {
    for (const pid of liveSleeps()) process.kill(pid, 'SIGKILL');
  });
  const script = [
    'trap "echo got TERM; exit 5" TERM',
    `( env -i /usr/bin/setsid /bin/sh -c 'trap "" TERM; exec /bin/${sleeps(6)}' & )`,
    `setsid ${sleeps(7)} &`,
    'echo ready',
    'while :; do sleep 0.1; done',
  ].join('\n');
  const { lines, ac, done } = run(t, script, sandbox);
  await waitFor(() => lines.includes('ready') && liveSleeps().length === 2, 'the task and its children', 20_000);
  ac.abort();
  const res = await done;
  t.equal(res.stopped, true);
  t.ok(lines.includes('got TERM'), "the script's own TERM trap ran");
  t.same(liveSleeps(), [], 'the TERM-ignoring env -i child is gone too');
});

t.test(
  'as root: the task user runs inside the namespace, /work is its folder',
  { skip: skip || (!isRoot && 'needs root') },
  async (t) => {
    const u = ensureUser('mvm-task-a');
    const script =
      'echo "uid $(id -u) gid $(id -g) groups $(id -G)"; touch /work/mine; cat /proc/1/environ >/dev/null 2>&1 && echo READ-INIT-ENV; echo done';
    const { lines, done } = run(t, script, sandbox, {}, { uid: u.uid, gid: u.gid });
    const res = await done;
    t.equal(res.exitCode, 0);
    t.same(lines, [`uid ${u.uid} gid ${u.gid} groups ${u.gid}`, 'done']);
  },
);

t.test('the contained argv: a constant init, inputs as arguments', async (t) => {
  const sb: TaskSandbox = {
    kind: 'pid-namespace',
    work: true,
    limits: [],
    tools: { unshare: '/u', mount: '/m', setpriv: '/s', sleep: '/z', tr: '/t' },
  };
  const argv = containedArgv(sb, {
    argv: ['/bin/bash', "x'; rm -rf /"],
    graceMs: 2500,
    workSource: '/w',
    cwd: '/work/a',
    uid: 7,
    gid: 8,
  });
  t.same(argv.slice(0, 6), ['/u', '--pid', '--fork', '--kill-child', '--mount-proc', '--']);
  t.same(argv.slice(9), [
    'mvm-task-init',
    '3',
    '/w',
    '/work/a',
    '7',
    '8',
    '/m',
    '/s',
    '/z',
    '/t',
    '',
    '',
    '/bin/bash',
    "x'; rm -rf /",
  ]);
  t.same(containedArgv({ ...sb, kind: 'mark' }, { argv: ['/bin/bash', 'f'], graceMs: 1 }), ['/bin/bash', 'f']);
});

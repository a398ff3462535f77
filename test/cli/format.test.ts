import t from 'tap';
import type { Job, JobEvent } from '../../shared/api/types.js';
import { eventJson, formatBytes, formatEvent, formatOutputs, outcome, visible } from '../../cli/format.js';
import { ago, formatJob, formatJobList, taskStates, testbedOf } from '../../cli/job-format.js';
import { ulidTime } from '../../shared/ulid-time.js';
import { ulid } from 'ulid';

const ev = (stream: string, payload: string, task: number | null = 0, seq = 1): JobEvent => ({
  seq,
  stream,
  task,
  payload,
  time: '2026-01-02T03:04:05.678Z',
});

t.test('events: one line each, time, stream.task, payload', async (t) => {
  t.equal(formatEvent(ev('stdout', 'hello')), '03:04:05 stdout.0  hello');
  t.equal(formatEvent(ev('stderr', 'oops', 2)), '03:04:05 stderr.2  oops');
  t.equal(formatEvent(ev('task', 'starting task 0: "x"')), '03:04:05 task.0    starting task 0: "x"');
  t.equal(formatEvent(ev('control', 'job cancelled', null)), '03:04:05 control   job cancelled');
  // Only warnings and errors are coloured: a script's stderr is not an error by itself.
  t.equal(formatEvent(ev('stdout', 'x'), { color: true }), '03:04:05 stdout.0  x');
  t.equal(formatEvent(ev('stderr', 'x'), { color: true }), '03:04:05 stderr.0  x');
  // A JSON log line (the runner's, a script's pino) reads as level, context and message.
  const line = (o: object) => ev('stderr', JSON.stringify(o));
  t.equal(
    formatEvent(line({ level: 30, time: 1, pid: 9, testbed: 'bench-1', device: 'gamma', msg: 'image fits', size: 12 })),
    '03:04:05 stderr.0  INFO  bench-1 gamma: image fits (size=12)',
  );
  t.equal(
    formatEvent(line({ level: 40, time: 1, msg: 'hot' }), { color: true }),
    '03:04:05 stderr.0  \x1b[33mWARN  hot\x1b[0m',
  );
  t.equal(
    formatEvent(line({ level: 50, time: 1, test: 't', msg: 'flash failed', err: { message: 'EHOSTUNREACH' } }), {
      color: true,
    }),
    '03:04:05 stderr.0  \x1b[31mERROR t: flash failed: EHOSTUNREACH\x1b[0m',
  );
  t.equal(formatEvent(ev('stdout', '{"level": "not pino"}')), '03:04:05 stdout.0  {"level": "not pino"}');
});

t.test('untrusted payloads cannot drive the terminal', async (t) => {
  t.equal(visible('a\x1b[2Jb\r\nc\td'), 'a\\x1b[2Jb\\r\\nc\td');
  t.equal(formatEvent(ev('stdout', '\x1b]0;owned\x07')), '03:04:05 stdout.0  \\x1b]0;owned\\x07');
});

t.test('--json prints the event as the server sent it', async (t) => {
  const e = ev('stdout', 'a "quoted" \x1b line');
  t.same(JSON.parse(eventJson(e)), e);
  t.notOk(eventJson(e).includes('\n'));
});

t.test('jobs, outcomes, outputs, sizes', async (t) => {
  t.equal(outcome({ state: 'failed', cancelled: true }), 'cancelled');
  t.equal(outcome({ state: 'failed', cancelled: false }), 'failed');
  t.equal(outcome({ state: 'running', cancelled: true }), 'running');
  t.equal(formatBytes(12), '12 B');
  t.equal(formatBytes(5 * 1024 * 1024), '5.0 MiB');
  t.equal(formatBytes(1536), '1.5 KiB');
  t.equal(formatJobList([]), 'no jobs');
  const now = Date.parse('2026-01-02T03:10:05Z');
  const a = ulid(now - 5 * 60_000);
  const b = ulid(now - 3 * 86_400_000);
  t.equal(ulidTime(a), now - 5 * 60_000);
  t.equal(ulidTime('not-a-ulid'), undefined);
  const list = formatJobList(
    [
      { id: a, name: 'one', state: 'completed', cancelled: false, owner: 'U1', target: 'bitaxe', target_id: 'T' },
      { id: b, name: 'two', state: 'failed', cancelled: true, owner: 'U2', target: 'nano3', target_id: 'T' },
      { id: 'x1', name: 'old', state: 'failed', cancelled: false, owner: 'U1', target: 'nano3', target_id: 'T' },
    ],
    { caller: { id: 'U1', name: 'alice' }, now },
  );
  t.equal(
    list,
    [
      'ID                          STATE      AGE     OWNER  TARGET  NAME',
      `${a}  completed  5m ago  alice  bitaxe  one`,
      `${b}  cancelled  3d ago  U2     nano3   two`,
      'x1                          failed     -       alice  nano3   old',
    ].join('\n'),
    'relative ages, the caller by name',
  );
  t.equal(ago(now - 1000, now), 'just now');
  t.equal(ago(now - 42_000, now), '42s ago');
  t.equal(ago(now - 3 * 3600_000, now), '3h ago');
  const job: Job = {
    id: '01A',
    name: 'one',
    state: 'running',
    cancelled: false,
    owner: 'U1',
    target: 'bitaxe',
    target_real: 'bitaxe-601',
    output_rules: ['/work/output/**/*'],
    tags: { pr: '12' },
    times: { submit: '2026-01-02T03:04:05Z' },
    tasks: [{ name: 'one', script: 'true', env: {}, env_clear: false, state: 'running' }],
  };
  const shown = formatJob(job, {
    caller: { id: 'U1', name: 'alice' },
    testbed: 'bench-1',
    now: Date.parse('2026-01-02T03:09:05Z'),
  });
  t.match(shown, /state\s+running/);
  t.match(shown, /testbed\s+bench-1/);
  t.match(shown, /owner\s+alice/);
  t.match(shown, /times\s+submitted 5m ago \(submitted 2026-01-02T03:04:05Z\)/);
  t.match(shown, /target\s+bitaxe \(runs on bitaxe-601\)/);
  t.match(shown, /tags\s+pr=12/);
  t.match(shown, /task 0\s+running\s+one/);
  // Task states as they are: the server says "pending" for a running or cancelled task.
  const three = { ...job, tasks: ['a', 'b', 'c'].map((n) => ({ ...job.tasks[0], name: n, state: 'pending' })) };
  three.tasks[0].state = 'completed';
  t.same(taskStates(three), ['completed', 'running', 'waiting']);
  t.same(taskStates({ ...three, state: 'failed', cancelled: true }), ['completed', 'cancelled', 'cancelled']);
  t.same(taskStates({ ...three, state: 'queued' }), ['completed', 'pending', 'pending']);
  t.equal(
    testbedOf([ev('task', 'starting task 0'), { ...ev('worker', 'running on testbed bench-2', null), seq: 2 }]),
    'bench-2',
  );
  const done = formatJob(
    {
      ...job,
      state: 'completed',
      times: { submit: '2026-01-02T03:04:05Z', assigned: '2026-01-02T03:04:35Z', complete: '2026-01-02T03:06:35Z' },
    },
    { now: Date.parse('2026-01-02T03:09:05Z') },
  );
  t.match(done, /times\s+submitted 5m ago, waited 30s, ran 2m 0s, ended 2m ago/);
  t.match(done, /owner\s+U1/, 'an owner that is not the caller stays an id');
  t.equal(
    formatOutputs([{ id: 'O1', path: '/work/output/a.txt', size: 2048 }]),
    'ID  SIZE     PATH\nO1  2.0 KiB  /work/output/a.txt',
  );
});

import t from 'tap';
import type { Job, JobEvent } from '../../shared/api/types.js';
import {
  eventJson,
  formatBytes,
  formatEvent,
  formatJob,
  formatJobList,
  formatOutputs,
  outcome,
  visible,
} from '../../cli/format.js';

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
  t.equal(formatEvent(ev('stdout', 'x'), { color: true }), '\x1b[2m03:04:05 stdout.0 \x1b[0m x');
  // eslint-disable-next-line no-control-regex -- the colour escape is what is tested
  t.match(formatEvent(ev('stderr', 'x'), { color: true }), /\x1b\[31mx\x1b\[0m$/);
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
  const list = formatJobList([
    { id: '01A', name: 'one', state: 'completed', cancelled: false, owner: 'u', target: 'bitaxe', target_id: 'T' },
    { id: '01B', name: 'two', state: 'failed', cancelled: true, owner: 'u', target: 'nano3', target_id: 'T' },
  ]);
  t.equal(list, 'ID   STATE      TARGET  NAME\n01A  completed  bitaxe  one\n01B  cancelled  nano3   two');
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
  const shown = formatJob(job);
  t.match(shown, /state\s+running/);
  t.match(shown, /target\s+bitaxe \(runs on bitaxe-601\)/);
  t.match(shown, /tags\s+pr=12/);
  t.match(shown, /task 0\s+running\s+one/);
  t.equal(
    formatOutputs([{ id: 'O1', path: '/work/output/a.txt', size: 2048 }]),
    'ID  SIZE     PATH\nO1  2.0 KiB  /work/output/a.txt',
  );
});

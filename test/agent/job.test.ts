// Acceptance: a real `mvm agent run` against a real `mvm server`, through the conformance proxy.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { agentLog, normalise, startLab } from './harness.js';

t.test('a job with several tasks, env, a failing task, inputs and outputs: exact events and files', async (t) => {
  const lab = await startLab(t);
  const proxy = await startConformanceProxy(lab.srv.url);
  t.teardown(() => proxy.close());
  const fw = randomBytes(300_000);
  const job = await lab.submit({
    name: 'acceptance',
    inputs: { 'fw.bin': fw, 'cfg/settings.txt': Buffer.from('x=1\n') },
    output_rules: ['/work/output/**/*', '!/work/output/*.tmp', '=/work/output/report.txt'],
    tasks: [
      {
        name: 'env',
        env_clear: false,
        env: { FOO: 'bar' },
        script: [
          'set -e',
          'echo "task=$BUILDOMAT_TASK_ID tz=$TZ foo=$FOO lang=$LANG"',
          'test "$BUILDOMAT_JOB_ID" = "$JOB_EXPECTED" || echo "job id is $BUILDOMAT_JOB_ID"',
          'test "$(pwd)" = "$MVM_WORK_DIR" && echo "cwd is the work dir"',
          'cat "$MVM_INPUT_DIR/cfg/settings.txt"',
          'cp "$MVM_INPUT_DIR/fw.bin" "$MVM_OUTPUT_DIR/fw-copy.bin"',
          'printf "report\\n" > "$MVM_OUTPUT_DIR/report.txt"',
          'echo scratch > "$MVM_OUTPUT_DIR/ignored.tmp"',
          'printf "bad \\377 byte\\n"',
        ].join('\n'),
      },
      {
        name: 'cleared',
        env_clear: true,
        env: { ONLY: '1' },
        script: 'echo "home=${HOME:-unset} only=$ONLY mvm=${MVM_WORK_DIR:-unset}" >&2',
      },
      { name: 'fail', env_clear: false, env: {}, script: 'echo failing\nexit 3' },
      { name: 'skipped', env_clear: false, env: {}, script: 'echo never; touch "$MVM_WORK_DIR/ran"' },
    ],
  });
  const w = await lab.worker(job);
  const workdir = join(lab.dir, 'agent');
  const agent = lab.startAgent(w.bootstrap, workdir, [], proxy.url);
  t.equal(await agent.exited, 0, 'the agent exits 0 once the job is done');
  const final = await lab.waitDone(job);
  t.equal(final.state, 'failed', 'a failed task fails the job');

  const log = normalise(agentLog(await lab.events(job)));
  t.same(log, [
    // in the order the server lists the inputs
    'worker: downloading input: cfg/settings.txt',
    'worker: downloaded input: cfg/settings.txt',
    'worker: downloading input: fw.bin',
    'worker: downloaded input: fw.bin',
    'task[0]: starting task 0: "env"',
    'stdout[0]: task=0 tz=UTC foo=bar lang=C.UTF-8',
    `stdout[0]: job id is ${job}`,
    'stdout[0]: cwd is the work dir',
    'stdout[0]: x=1',
    'stdout[0]: bad \uFFFD byte',
    'task[0]: process exited: duration N ms, exit code 0',
    'task[1]: starting task 1: "cleared"',
    'stderr[1]: home=unset only=1 mvm=unset',
    'task[1]: process exited: duration N ms, exit code 0',
    'task[2]: starting task 2: "fail"',
    'stdout[2]: failing',
    'task[2]: process exited: duration N ms, exit code 3',
    'worker: found 2 output files',
    `worker: uploading: /work/output/fw-copy.bin (${fw.length} bytes)`,
    'worker: uploaded: /work/output/fw-copy.bin',
    'worker: uploading: /work/output/report.txt (7 bytes)',
    'worker: uploaded: /work/output/report.txt',
  ]);
  t.notOk(existsSync(join(workdir, 'jobs', job, 'work', 'ran')), 'the task after the failure never ran');

  const outputs = await lab.outputs(job);
  t.same(outputs.map((o) => [o.path, o.size]).sort(), [
    ['/work/output/fw-copy.bin', fw.length],
    ['/work/output/report.txt', 7],
  ]);
  t.ok(outputs.find((o) => o.path.endsWith('fw-copy.bin'))!.body.equals(fw), 'the output has the input bytes');
  t.equal(outputs.find((o) => o.path.endsWith('report.txt'))!.body.toString(), 'report\n');

  t.same(
    final.tasks.map((x) => [x.name, x.state]),
    [
      ['env', 'completed'],
      ['cleared', 'completed'],
      ['fail', 'failed'],
      ['skipped', 'pending'],
    ].map(([n, s]) => [n, s]),
    'task states',
  );
  t.same(proxy.violations, [], 'every request and response matches the buildomat spec');
  const seen = proxy.seen();
  for (const op of [
    'worker_bootstrap',
    'worker_ping',
    'worker_job_append',
    'worker_job_input_download',
    'worker_task_complete',
    'worker_job_upload_chunk',
    'worker_job_add_output',
    'worker_job_complete',
  ]) {
    t.ok(seen.has(op), `the agent used ${op}`);
  }
});

t.test('an `=` rule that matches nothing fails the job with a clear event', async (t) => {
  const lab = await startLab(t);
  const job = await lab.submit({ output_rules: ['=/work/output/*.xml'], script: 'echo ok' });
  const w = await lab.worker(job);
  const agent = lab.startAgent(w.bootstrap, join(lab.dir, 'agent'));
  t.equal(await agent.exited, 0);
  t.equal((await lab.waitDone(job)).state, 'failed');
  t.ok(
    agentLog(await lab.events(job)).includes(
      'worker: upload error: rule "=/work/output/*.xml" required a match, but no output file matched it',
    ),
    'the event says which rule matched nothing',
  );
});

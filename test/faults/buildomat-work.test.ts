// A buildomat script that writes to /work/output failed with "No such file or
// directory". Where the host allows namespaces (root here), each task sees its job's folder
// mounted on /work: the ported script runs as is, starts in /work, and its /work/output files
// are the job's outputs. Where it cannot (`--containment mark`), the agent says so, with the
// reason, before the script runs; $MVM_OUTPUT_DIR works either way.
import t from 'tap';
import { chooseSandbox } from '../../agent/task-sandbox.js';
import { waitFor } from '../helpers/mvm-process.js';
import { liveRows } from '../factory/fixture.js';
import { startFaultLab } from './lib/stack.js';

const sandbox = await chooseSandbox();
const noWork = sandbox.work ? false : `no /work on this host: ${sandbox.limits.join('; ')}`;

t.test('a ported buildomat script writes /work/output and its outputs are kept', { skip: noWork }, async (t) => {
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const factory = await lab.factory();
  const ported = await lab.submitTasks(
    'bitaxe',
    [
      {
        name: 'ported',
        script:
          'pwd\nmkdir -p /work/output/sub\necho report > /work/output/report.txt\necho deep > /work/output/sub/x.txt\necho "$MVM_OUTPUT_DIR" | grep -q . && echo same > "$MVM_OUTPUT_DIR/env.txt"\nls /work/output',
      },
    ],
    { output_rules: ['/work/output/**/*'] },
  );
  t.equal((await lab.waitJob(ported, ['completed', 'failed'], 60_000)).state, 'completed');
  const events = await lab.events(ported);
  t.same(
    events.filter((e) => e.stream === 'stdout').map((e) => e.payload),
    ['/work', 'env.txt', 'report.txt', 'sub'],
    'the task starts in /work; $MVM_OUTPUT_DIR and /work/output are one folder',
  );
  t.notOk(
    events.some((e) => /this script names \/work/.test(e.payload)),
    'no note: /work is the job folder',
  );
  const outs = await lab.user.get<Array<{ path: string }>>(`/0/jobs/${ported}/outputs`);
  t.same(
    outs.map((o) => o.path).sort(),
    ['/work/output/env.txt', '/work/output/report.txt', '/work/output/sub/x.txt'],
    'what the script wrote to /work/output is uploaded',
  );
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instances destroyed', 30_000, 100);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

t.test('without /work the script is told, before it runs, why and what to use instead', async (t) => {
  const lab = await startFaultLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    agentArgs: ['--containment', 'mark'],
  });
  const factory = await lab.factory();
  const ported = await lab.submitTasks('bitaxe', [
    { name: 'ported', script: 'cat /work/output/report.txt 2>/dev/null; echo after' },
  ]);
  await lab.waitJob(ported, ['completed', 'failed'], 60_000);
  const events = await lab.events(ported);
  const note = events.findIndex(
    (e) =>
      e.stream === 'worker' &&
      /this script names \/work, which is not the job's folder on this agent \(it is .*; the agent cannot mount it there: containment = mark was asked for\); use \$MVM_WORK_DIR and \$MVM_OUTPUT_DIR/.test(
        e.payload,
      ),
  );
  const first = events.findIndex((e) => e.stream === 'stdout');
  t.ok(note >= 0, 'the note is in the job log');
  t.ok(note < first, 'before the script runs');
  const fixed = await lab.submitTasks('bitaxe', [{ name: 'fixed', script: 'echo hi > "$MVM_OUTPUT_DIR/x.txt"' }]);
  t.equal((await lab.waitJob(fixed, ['completed', 'failed'], 60_000)).state, 'completed', '$MVM_OUTPUT_DIR works');
  t.notOk(
    (await lab.events(fixed)).some((e) => /this script names \/work/.test(e.payload)),
    'no note for it',
  );
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instances destroyed', 30_000, 100);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

// A device test's windows and timeouts are bounded by the job's deadline, not by a fixed 6 h: the
// factory hands each instance's deadline (creation + instance_deadline) to the runner in
// testbed.json, and `mvm runner test` refuses a duration that would outlast it, naming the key and
// the time left. Without a job (a bench) the bound is the longest instance_deadline (24 days).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMvm, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { liveRows } from '../factory/fixture.js';
import { payloads, startFaultLab } from './lib/stack.js';

const spec = (extra: string) => `script: ["true"]\ndevices:\n  - hardware: "601"\n${extra}`;
const testbed = (deadline?: string) =>
  JSON.stringify({
    version: 1,
    testbed: 'bench',
    ...(deadline ? { deadline } : {}),
    devices: [
      { name: 'miner', driver: 'axeos', address: 'http://127.0.0.1:9', hardware: '601', attributes: [], options: {} },
    ],
  });

t.test('the runner bounds durations by the deadline in the testbed description', async (t) => {
  const dir = tempDir(t);
  const def = join(dir, 'long.yaml');
  writeFileSync(def, spec('timeout: 2h\nchecks:\n  - type: temperature\n    max: 80\n    window: 8h\n'));
  const inJob = join(dir, 'in-job.json');
  writeFileSync(inJob, testbed(new Date(Date.now() + 3 * 3_600_000).toISOString()));
  const r = await runMvm(['runner', 'test', '--spec', def, '--testbed', inJob], { timeoutMs: 30_000 });
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    /checks\[0\]\.window.*"8h" is longer than the 2h ?59m.* left before the job's deadline \(\d{4}-\d\d-\d\dT.*Z, the factory's instance_deadline\)/,
    'the key, the time left and the deadline',
  );
  t.notMatch(r.stderr, /timeout.*"2h" is longer/, 'a timeout within the deadline is accepted');

  const bench = join(dir, 'bench.json');
  writeFileSync(bench, testbed());
  const b = await runMvm(['runner', 'test', '--spec', def, '--testbed', bench], { timeoutMs: 30_000 });
  t.notMatch(b.stderr, /is longer than/, 'on a bench (no deadline) 8h is allowed: no fixed 6h cap');
});

t.test('in a real job: the deadline comes from the factory', async (t) => {
  const lab = await startFaultLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    factoryKeys: 'instance_deadline = "1h"',
  });
  const factory = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [
    {
      name: 'long test',
      script: [
        'jq -r .deadline "$MVM_TESTBED" 2>/dev/null || grep -o \'"deadline": *"[^"]*"\' "$MVM_TESTBED"',
        `printf '${spec('checks:\\n  - type: hashrate\\n    min_percent: 50\\n    window: 90m\\n')}' > t.yaml`,
        'mvm runner test --spec t.yaml',
      ].join('\n'),
    },
  ]);
  t.equal((await lab.waitJob(job, ['completed', 'failed'], 90_000)).state, 'failed');
  const events = await lab.events(job);
  const out = [...payloads(events, 'stdout'), ...payloads(events, 'stderr')].join('\n');
  const deadline = /(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(out)?.[1];
  t.ok(deadline, 'testbed.json carries the deadline');
  const left = Date.parse(deadline!) - Date.now();
  t.ok(left > 50 * 60_000 && left <= 3_600_000, 'about instance_deadline after the instance was made');
  t.match(out, /checks\[0\]\.window.*"90m" is longer than the (59m|1h).* left before the job's deadline/);
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'instances destroyed', 30_000, 100);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

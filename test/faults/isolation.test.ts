// Hostile job scripts under a real factory and real agents, each testbed running its tasks as its
// own task user: a job cannot read its own agent's token, another instance's agent state, or
// another job's folder; it runs as the task user whatever uid the job asks for. Needs root.
import t from 'tap';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/mvm-process.js';
import { liveRows } from '../factory/fixture.js';
import { payloads, startFaultLab } from './lib/stack.js';
import { ensureUser, isRoot } from './lib/users.js';

t.test(
  'a hostile job reaches neither agent state nor another job',
  { skip: isRoot ? false : 'needs root (tasks switch to a task user)' },
  async (t) => {
    const userA = ensureUser('mvm-task-a');
    const userB = ensureUser('mvm-task-b');
    const lab = await startFaultLab(t, {
      testbeds: [
        { name: 'bed-a', targets: ['alpha'], testbedKeys: ['task_user = "mvm-task-a"'] },
        { name: 'bed-b', targets: ['beta'], testbedKeys: ['task_user = "mvm-task-b"'] },
      ],
    });
    // As on a lab host: the data folder is searchable (0711), not listable, by the task users.
    chmodSync(lab.dir, 0o711);
    const factory = await lab.factory();
    const gate = join(lab.dir, 'gate');

    const victim = await lab.submitTasks('alpha', [
      {
        name: 'victim',
        script: `echo "victim secret" > "$MVM_WORK_DIR/secret.txt"\necho "ready $(id -u)"\nwhile [ ! -e '${gate}' ]; do sleep 0.1; done\necho released`,
      },
    ]);
    const ready = await waitFor(
      async () => payloads(await lab.events(victim), 'stdout').find((p) => p.startsWith('ready ')),
      'the victim job to run',
      60_000,
      100,
    );
    const [, victimUid] = ready!.split(' ');
    t.equal(Number(victimUid), userA.uid, "the victim's task runs as bed-a's task user");
    const victimRow = liveRows(lab.dbFile).find((r) => r.testbed === 'bed-a')!;
    const victimDir = join(lab.instancesDir, victimRow.id);
    // The victim's folder on the host (its task may see it as /work, in its own mount namespace).
    const victimWork = join(victimDir, 'jobs', victim, 'work');
    const state = readFileSync(join(victimDir, 'agent-state.json'), 'utf8');
    const victimToken = (JSON.parse(state) as { token: string }).token;

    const hostile = [
      'echo "uid $(id -u) gid $(id -g) groups $(id -G)"',
      // From the input folder (a real path under any containment; $MVM_WORK_DIR may be /work).
      'for f in "$MVM_INPUT_DIR"/../../../../*/agent-state.json; do cat "$f" 2>/dev/null && echo "READ-OTHER $f"; done',
      'cat "$MVM_INPUT_DIR/../../../agent-state.json" 2>/dev/null && echo READ-OWN',
      'ls "$MVM_INPUT_DIR/../../../.." >/dev/null 2>&1 && echo LISTED-INSTANCES',
      'ls "$MVM_INPUT_DIR/../../.." >/dev/null 2>&1 && echo LISTED-OWN-AGENT',
      `cat '${victimWork}/secret.txt' 2>/dev/null && echo READ-VICTIM-FILE`,
      `cat '${join(victimDir, 'agent-state.json')}' 2>/dev/null && echo READ-VICTIM-STATE`,
      `cat '${lab.dbFile}' >/dev/null 2>&1 && echo READ-FACTORY-DB`,
      'cat /proc/$PPID/environ >/dev/null 2>&1 && echo READ-AGENT-ENV',
      `echo forged >> '${victimWork}/secret.txt' 2>/dev/null && echo WROTE-VICTIM`,
      'echo probe-done',
    ].join('\n');
    const attacker = await lab.submitTasks('beta', [{ name: 'hostile', script: hostile }]);
    const done = await lab.waitJob(attacker, ['completed', 'failed'], 60_000);
    const out = payloads(await lab.events(attacker), 'stdout');
    t.equal(done.state, 'completed', 'the hostile job ran to its end');
    t.ok(out.includes('probe-done'), 'the probe ran');
    t.same(
      out.filter((l) => /^(READ|LISTED|WROTE)/.test(l)),
      [],
      'nothing of another instance, its own agent or the factory was readable',
    );
    t.notOk(out.join('\n').includes(victimToken), "the victim agent's token never appears");
    t.match(
      out[0],
      new RegExp(`^uid ${userB.uid} gid ${userB.gid} groups ${userB.gid}$`),
      "bed-b's task user, no supplementary groups (the job asked for uid 0)",
    );

    t.equal(statSync(join(victimDir, 'agent-state.json')).mode & 0o777, 0o600, 'agent state is 0600');
    t.equal(statSync(lab.instancesDir).mode & 0o777, 0o711, 'the instances folder is searchable, not listable');

    writeFileSync(gate, '');
    t.equal(
      (await lab.waitJob(victim, ['completed', 'failed'], 60_000)).state,
      'completed',
      'the victim job was untouched',
    );
    t.same(payloads(await lab.events(victim), 'stdout').slice(-1), ['released']);
    t.equal(await factory.stop(), 0);
    await lab.noLeaks(t);
  },
);

t.test(
  'a task user the agent cannot switch to fails the job with the reason',
  { skip: isRoot ? false : 'needs root' },
  async (t) => {
    ensureUser('mvm-task-a');
    // The data folder stays 0700: the task user could not reach its job folder.
    const lab = await startFaultLab(t, {
      testbeds: [{ name: 'bed-a', targets: ['alpha'], testbedKeys: ['task_user = "mvm-task-a"'] }],
    });
    chmodSync(lab.dir, 0o700);
    const factory = await lab.factory();
    const job = await lab.submitTasks('alpha', [{ name: 'never', script: 'echo ran' }]);
    t.equal((await lab.waitJob(job, ['completed', 'failed'], 60_000)).state, 'failed');
    const ev = await lab.events(job);
    t.notOk(payloads(ev, 'stdout').includes('ran'), 'no task ran as the agent');
    t.match(
      payloads(ev, 'worker').join('\n'),
      /cannot run tasks as the task user: the folder .* is not searchable by mvm-task-a/,
    );
    t.equal(await factory.stop(), 0);
    await lab.noLeaks(t);
  },
);

t.test("a task's own workdir below /work is the task user's", { skip: isRoot ? false : 'needs root' }, async (t) => {
  const user = ensureUser('mvm-task-a');
  const lab = await startFaultLab(t, {
    testbeds: [{ name: 'bed-a', targets: ['alpha'], testbedKeys: ['task_user = "mvm-task-a"'] }],
  });
  chmodSync(lab.dir, 0o711);
  const factory = await lab.factory();
  const job = await lab.srv.submitJob(lab.userToken, {
    target: 'alpha',
    tasks: [
      {
        name: 'first',
        script: 'ln "$0" /work-link 2>/dev/null; echo one > "$MVM_WORK_DIR/one"',
        env_clear: false,
        env: { FAULT_MARK: lab.mark },
      },
      {
        name: 'deep',
        script: 'echo "$(id -u) $(basename "$PWD")"; touch made-here && echo wrote',
        env_clear: false,
        env: { FAULT_MARK: lab.mark },
        workdir: '/work/a/b',
      },
    ],
  });
  t.equal((await lab.waitJob(job, ['completed', 'failed'], 60_000)).state, 'completed');
  t.same(payloads(await lab.events(job), 'stdout'), [`${user.uid} b`, 'wrote']);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

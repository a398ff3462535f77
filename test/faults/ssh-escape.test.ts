// SSH testbeds under a real factory, a real sshd (test/helpers/sshd.ts) and the real agent on the
// "remote" host. The remote agent contains its tasks as a local one does (a PID namespace where
// the host allows): with the agent SIGKILLed mid-task and the job cancelled, the factory's stop
// over SSH leaves nothing — setsid and env -i children included. On a host without namespaces
// (MVM_TASK_CONTAINMENT=mark in remote_command) the stop script finds what left the task's group
// by its mark. And `task_user` works over SSH: the task runs as that user and reaches neither its
// agent's state nor the other instances (needs root).
import t from 'tap';
import { chmodSync } from 'node:fs';
import type { Test } from 'tap';
import { join } from 'node:path';
import { MVM_BIN } from '../../shared/paths.js';
import { chooseSandbox } from '../../agent/task-sandbox.js';
import { sshAgentLine, startSshd, sshdUnavailable, type Sshd } from '../helpers/sshd.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { liveRows } from '../factory/fixture.js';
import { liveWithCmdline } from './lib/procs.js';
import { payloads, startFaultLab, type FaultLab } from './lib/stack.js';
import { ensureUser, isRoot } from './lib/users.js';

const noSshd = sshdUnavailable();
const sandbox = await chooseSandbox();
const noNamespaces = sandbox.kind === 'mark' ? `no namespaces on this host: ${sandbox.limits.join('; ')}` : false;
const tag = String(50_500 + (process.pid % 9_000));
const sleep = (n: number) => `sleep ${tag}${n}`;
const live = () => liveWithCmdline(`sleep\u0000${tag}`);
const killLeft = () => {
  for (const pid of live()) process.kill(pid, 'SIGKILL');
};

function sshAgent(sshd: Sshd, remoteWorkdir: string, env: string[] = []): string {
  return sshAgentLine(sshd, remoteWorkdir, {
    remote_command: [...(env.length > 0 ? ['env', ...env] : []), process.execPath, MVM_BIN],
  });
}

/** Starts a job whose task leaves escapers and then runs on; kills its remote agent; cancels it. */
async function killAgentThenCancel(t: Test, lab: FaultLab, script: string, expected: number): Promise<void> {
  const factory = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [{ name: 'escaper', script }]);
  await waitFor(
    async () => payloads(await lab.events(job), 'stdout').includes('running'),
    'the task to run',
    90_000,
    100,
  );
  t.equal(live().length, expected, 'the escapers run on the remote host');
  const row = liveRows(lab.dbFile)[0]!;
  // The agent and the launcher that leads its group die; the task's group runs on without them.
  process.kill(-row.agent_pid!, 'SIGKILL');
  await lab.user.post(`/0/jobs/${job}/cancel`);
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 60_000, 100);
  t.same(live(), [], 'nothing the task started is left on the remote host');
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t, 5000);
}

if (noSshd) {
  t.plan(0, noSshd);
} else {
  t.test(
    'remote agent killed mid-task: its namespaced task ends with the stop over SSH',
    { skip: noNamespaces },
    async (t) => {
      t.teardown(killLeft);
      const sshd = await startSshd(t);
      const lab = await startFaultLab(t, {
        testbeds: [
          { name: 'bench-ssh', targets: ['bitaxe'], testbedKeys: [sshAgent(sshd, join(tempDir(t), 'remote'))] },
        ],
      });
      await killAgentThenCancel(
        t,
        lab,
        [
          `setsid ${sleep(1)} &`,
          `( env -i /usr/bin/setsid /bin/sh -c 'trap "" TERM; exec /bin/${sleep(2)}' & )`,
          'sleep 0.3',
          'echo running',
          'sleep 300',
        ].join('\n'),
        2,
      );
    },
  );

  t.test('remote host without namespaces: the stop script stops the marked setsid children', async (t) => {
    t.teardown(killLeft);
    const sshd = await startSshd(t);
    const remote = join(tempDir(t), 'remote');
    const lab = await startFaultLab(t, {
      testbeds: [
        {
          name: 'bench-ssh',
          targets: ['bitaxe'],
          testbedKeys: [sshAgent(sshd, remote, ['MVM_TASK_CONTAINMENT=mark'])],
        },
      ],
    });
    await killAgentThenCancel(
      t,
      lab,
      [
        `setsid ${sleep(3)} &`,
        `( setsid sh -c 'trap "" TERM; ${sleep(4)}; true' & )`,
        'sleep 0.3',
        'echo running',
        'sleep 300',
      ].join('\n'),
      2,
    );
  });

  t.test(
    'task_user on an SSH testbed',
    { skip: isRoot ? false : 'needs root (tasks switch to a task user)' },
    async (t) => {
      const user = ensureUser('mvm-task-a');
      const sshd = await startSshd(t);
      // As on a lab host: the folders above the remote workdir are searchable by the task user.
      const top = tempDir(t);
      chmodSync(top, 0o711);
      const remote = join(top, 'remote');
      const lab = await startFaultLab(t, {
        testbeds: [
          { name: 'bench-ssh', targets: ['bitaxe'], testbedKeys: ['task_user = "mvm-task-a"', sshAgent(sshd, remote)] },
        ],
      });
      const factory = await lab.factory();
      const hostile = [
        'echo "uid $(id -u) gid $(id -g)"',
        `cat '${remote}'/*/agent-state.json 2>/dev/null && echo READ-AGENT-STATE`,
        `ls '${remote}' >/dev/null 2>&1 && echo LISTED-INSTANCES`,
        'cat /proc/$PPID/environ >/dev/null 2>&1 && echo READ-PARENT-ENV',
        'echo out > "$MVM_OUTPUT_DIR/who.txt" && echo wrote-output',
      ].join('\n');
      const job = await lab.submitTasks('bitaxe', [{ name: 'hostile', script: hostile }], {
        output_rules: ['/work/output/*'],
      });
      const done = await lab.waitJob(job, ['completed', 'failed'], 90_000);
      const events = await lab.events(job);
      t.equal(done.state, 'completed', payloads(events, 'worker').join('\n'));
      t.same(
        payloads(events, 'stdout'),
        [`uid ${user.uid} gid ${user.gid}`, 'wrote-output'],
        'the task user, nothing readable',
      );
      const outs = await lab.user.get<Array<{ path: string }>>(`/0/jobs/${job}/outputs`);
      t.same(
        outs.map((o) => o.path),
        ['/work/output/who.txt'],
      );
      t.equal(await factory.stop(), 0);
      await lab.noLeaks(t);
    },
  );
}

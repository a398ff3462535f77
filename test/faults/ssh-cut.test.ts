// Fault: the SSH link to a testbed host cut mid-job while the factory daemon keeps running — the
// connections killed and sshd kept down for several passes, so the factory cannot look at its
// agent at all — then sshd back. test/ssh/* cover the connection layer (cut, keepalive, sshd
// restart, reconnect) and a cut followed by a factory *restart* (in process); what they leave out
// is the running `mvm factory` itself riding out the outage: not taking "cannot reach the host"
// for "the agent died", keeping its instance, and finishing the job normally once the link is
// back. The agent talks to the server over HTTP, so the job itself never notices.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/mvm-process.js';
import { sshAgentLine, startSshd, sshdUnavailable } from '../helpers/sshd.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { assertNone, liveWithCmdline } from './lib/procs.js';
import { assertSeqs, payloads, startFaultLab } from './lib/stack.js';

const why = sshdUnavailable();
if (why) {
  t.comment(`skipping the SSH cut test: ${why}`);
  t.plan(0, why);
}

t.test(
  'SSH cut mid-job with the factory running: the instance is kept and the job completes',
  { skip: why },
  async (t) => {
    const sshd = await startSshd(t);
    const lab = await startFaultLab(t, { testbeds: [{ name: 'bench-ssh', targets: ['bitaxe'] }] });
    const remote = join(lab.dir, 'remote');
    // The testbed runs its agent over SSH: add the agent table to the lab's testbed.
    writeFileSync(
      lab.configFile,
      readFileSync(lab.configFile, 'utf8').replace(
        'baseline = "v2.9.0"',
        `baseline = "v2.9.0"\n${sshAgentLine(sshd, remote)}`,
      ),
    );
    t.teardown(() => {
      for (const pid of liveWithCmdline(remote)) process.kill(pid, 'SIGKILL'); // safety net, by pid
    });
    const factory = await lab.factory();
    const gate = join(lab.dir, 'go');
    const job = await lab.submitTasks('bitaxe', [
      {
        name: 'steady',
        script: `i=0\nwhile [ ! -e '${gate}' ]; do i=$((i+1)); echo "line $i"; sleep 0.02; done\necho "total $i"`,
      },
    ]);
    await waitFor(() => liveRows(lab.dbFile).some((r) => r.state === 'running'), 'the instance running', 60_000, 100);
    const [before] = liveRows(lab.dbFile);
    await waitFor(async () => payloads(await lab.events(job), 'stdout').length > 10, 'the job under way', 30_000, 100);
    t.ok(liveWithCmdline(remote).length > 0, 'the agent runs on the "remote" host');

    // Cut: every connection killed and sshd down, for several factory passes (poll_interval 500ms).
    const cutAt = factory.stderr.length;
    await sshd.halt();
    await waitFor(
      () =>
        factory.stderr.slice(cutAt).filter((l) => l.includes('the next pass retries') && l.includes('ssh')).length >= 3,
      'three passes failing to reach the host',
      30_000,
      100,
    );
    t.same(
      liveRows(lab.dbFile).map((r) => [r.id, r.state, r.worker_id]),
      [[before.id, 'running', before.worker_id]],
      'the instance is kept while the host cannot be reached',
    );
    t.equal(factory.child.exitCode, null, 'the factory runs on');
    const during = payloads(await lab.events(job), 'stdout').length;
    await sshd.restart();
    await waitFor(
      async () => payloads(await lab.events(job), 'stdout').length > during,
      'the job going on',
      30_000,
      100,
    );

    writeFileSync(gate, '');
    t.equal((await lab.waitJob(job, ['completed', 'failed'], 60_000)).state, 'completed', 'the job completed');
    const events = await lab.events(job);
    assertSeqs(t, events);
    const out = payloads(events, 'stdout');
    const total = Number(/^total (\d+)$/.exec(out.at(-1) ?? '')?.[1]);
    t.same(
      out.slice(0, -1),
      Array.from({ length: total }, (_, i) => `line ${i + 1}`),
      `all ${total} lines once, in order`,
    );
    await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 60_000, 100);
    t.match(
      allRows(lab.dbFile),
      [{ id: before.id, state: 'destroyed', failure: null }],
      'one instance, ended without failure',
    );
    t.same(await lab.workers(), []);
    t.equal(await factory.stop(), 0);
    await assertNone(t, () => liveWithCmdline(remote), 'nothing left running on the remote host');
    await lab.noLeaks(t);
  },
);

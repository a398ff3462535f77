// A restore runner orphaned by a factory crash: it ran on beside the one the
// restarted factory started, both driving the same device. The factory now marks its runners and,
// at start, stops those a previous factory on the same folder left running, before starting anew.
import t from 'tap';
import Database from 'better-sqlite3';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MVM_BIN } from '../../shared/paths.js';
import { waitFor } from '../helpers/mvm-process.js';
import { sshAgentLine, startSshd, sshdUnavailable } from '../helpers/sshd.js';
import { tempDir } from '../helpers/tmp.js';
import { liveWithCmdline } from './lib/procs.js';
import { startFaultLab } from './lib/stack.js';

function orphanJournalled(dbFile: string, pid: number): boolean {
  const db = new Database(dbFile, { readonly: true });
  try {
    return (
      db.prepare("select 1 from events where kind = 'runner-orphan-stopped' and message like ?").get(`%pid ${pid}%`) !==
      undefined
    );
  } finally {
    db.close();
  }
}

t.test('a runner left by a SIGKILLed factory is stopped at the next start, journalled', async (t) => {
  const marker = `slow-runner-${process.pid}`;
  const lab = await startFaultLab(t, {
    testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }],
    healthKeys: '[health]\ntimeout = "10m"\nrestore_timeout = "10m"',
    factoryKeys: `runner_command = ["/bin/bash", "-c", "sleep 600; true", "${marker}"]`,
  });
  const first = await lab.factory({ wait: false });
  const [old] = await waitFor(
    () => {
      const running = liveWithCmdline(marker);
      return running.length > 0 ? running : undefined;
    },
    'the check (restore) runner to start',
    60_000,
  );
  await first.kill9();
  t.ok(liveWithCmdline(marker).includes(old), 'the runner outlived its factory');
  const second = await lab.factory({ wait: false });
  await waitFor(() => !liveWithCmdline(marker).includes(old), 'the orphan stopped', 30_000);
  await waitFor(() => orphanJournalled(lab.dbFile, old), 'the journal entry', 10_000);
  t.pass('journalled');
  await second.stop();
  await waitFor(() => liveWithCmdline(marker).length === 0, 'runners stopped with the factory', 30_000);
  await lab.noLeaks(t);
});

t.test(
  'on an SSH testbed too: the runner left on the host is stopped over SSH before a new one starts',
  { skip: sshdUnavailable() },
  async (t) => {
    const sshd = await startSshd(t);
    const marker = `slow-ssh-runner-${process.pid}`;
    // The host's `mvm`: the real one, except that a restore sleeps (a slow flash) under the marker.
    const bin = tempDir(t, 'mvm-remote-bin-');
    const mvm = join(bin, 'mvm');
    writeFileSync(
      mvm,
      [
        '#!/bin/sh',
        `case "$1 $2" in "runner restore") exec /bin/bash -c 'sleep 600; true' ${marker};; esac`,
        `exec "${process.execPath}" "${MVM_BIN}" "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(mvm, 0o755);
    const remote = tempDir(t, 'mvm-remote-');
    const lab = await startFaultLab(t, {
      testbeds: [
        {
          name: 'gamma-ssh',
          targets: ['bitaxe'],
          testbedKeys: [sshAgentLine(sshd, join(remote, 'work'), { remote_command: [mvm] })],
        },
      ],
      healthKeys: '[health]\ntimeout = "10m"\nrestore_timeout = "10m"',
    });
    const first = await lab.factory({ wait: false });
    const [old] = await waitFor(
      () => {
        const running = liveWithCmdline(marker);
        return running.length > 0 ? running : undefined;
      },
      'the check (restore) runner to start on the host',
      60_000,
    );
    await first.kill9();
    t.ok(liveWithCmdline(marker).includes(old), 'the runner outlived its factory and its connection');
    const second = await lab.factory({ wait: false });
    await waitFor(() => !liveWithCmdline(marker).includes(old), 'the orphan stopped', 60_000);
    const [next] = await waitFor(
      () => {
        const running = liveWithCmdline(marker);
        return running.length > 0 ? running : undefined;
      },
      'the new factory to start its own restore',
      60_000,
    );
    t.not(next, old, 'only then a new runner');
    await waitFor(
      () => {
        const db = new Database(lab.dbFile, { readonly: true });
        try {
          return db
            .prepare("select 1 from events where kind = 'runner-orphan-stopped' and testbed = 'gamma-ssh'")
            .get();
        } finally {
          db.close();
        }
      },
      'the journal entry',
      10_000,
    );
    t.pass('journalled');
    await second.stop();
    await waitFor(
      () => liveWithCmdline(marker).length === 0,
      'a graceful stop to end its runner on the host too (no SIGHUP reaches it there)',
      60_000,
    );
  },
);

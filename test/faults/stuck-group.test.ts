// A job's process group the factory cannot stop (issue 18, item 5), for real: the factory and its
// agents run as an unprivileged user (as under the systemd unit's `User=`), and the job runs a
// setuid-root program that becomes root entirely (as `sudo` does) — the factory's SIGTERM and
// SIGKILL to the group get EPERM for it. With its agent SIGKILLed mid-task, the factory must not
// free the testbed: the instance stays destroying with the testbed locked and quarantined with
// the reason, until the group is gone; then the testbed returns to service and takes the next job.
import t from 'tap';
import { chmodSync, chownSync, copyFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startMvm, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { liveRows } from '../factory/fixture.js';
import { liveWithEnv, MARK_ENV } from './lib/procs.js';
import { startFaultLab } from './lib/stack.js';

const UNPRIVILEGED = 65534;
const SETPRIV = '/usr/bin/setpriv';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (to run the factory as another user and to make a setuid helper)';
  try {
    statSync(SETPRIV);
  } catch {
    return `${SETPRIV} is missing (util-linux)`;
  }
  return undefined;
}

function chownTree(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p, uid);
    else chownSync(p, uid, uid);
  }
}

/** The uid a process runs as (its real uid), or undefined when it is gone. */
function uidOf(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const query = <T>(dbFile: string, sql: string, ...args: unknown[]): T | undefined => {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).get(...args) as T | undefined;
  } finally {
    db.close();
  }
};

const skip = skipReason();
t.test(
  'a task group the factory may not signal keeps its testbed quarantined until it is gone',
  { skip },
  async (t) => {
    // A setuid-root copy of setpriv: what `sudo` would be on a real host.
    const bin = tempDir(t, 'mvm-suid-');
    chmodSync(bin, 0o755);
    const helper = join(bin, 'become-root');
    copyFileSync(SETPRIV, helper);
    chmodSync(helper, 0o4755);

    const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
    chownTree(lab.dir, UNPRIVILEGED);
    const factory = startMvm(['factory', '-f', lab.configFile, '-d', lab.dbFile], {
      uid: UNPRIVILEGED,
      env: {
        [MARK_ENV]: lab.mark,
        MVM_LOG_LEVEL: 'info',
        HOME: lab.dir,
        MVM_TESTBED_LOCKS: join(lab.dir, 'locks'),
        // Tasks in the process group only: in a user namespace (what an unprivileged agent uses
        // otherwise) a setuid program cannot become the host's root, which this test needs.
        MVM_TASK_CONTAINMENT: 'mark',
      },
    });
    t.teardown(() => factory.stop(5000));
    await factory.waitForLine(/^mvm factory started$/, 60_000);

    const job = await lab.submitTasks('bitaxe', [
      { name: 'root helper', script: `echo started; "${helper}" --reuid=0 --regid=0 --clear-groups sleep 600` },
    ]);
    const [rooted] = await waitFor(
      () => {
        const found = liveWithEnv(MARK_ENV, lab.mark).filter((pid) => uidOf(pid) === 0);
        return found.length > 0 ? found : undefined;
      },
      'the job to run a root process',
      60_000,
    );
    t.teardown(() => {
      try {
        process.kill(rooted, 'SIGKILL');
      } catch {
        /* gone */
      }
    });
    const [inst] = liveRows(lab.dbFile);
    t.ok(inst?.agent_pid, 'the instance has its agent');
    t.equal(uidOf(inst.agent_pid!), UNPRIVILEGED, 'the agent runs unprivileged, as the factory does');
    process.kill(inst.agent_pid!, 'SIGKILL');

    const stuck = await waitFor(
      () =>
        query<{ message: string }>(
          lab.dbFile,
          "select message from events where kind = 'agent-stuck' and instance_id = ?",
          inst.id,
        ),
      'the factory to find the task group it cannot stop',
      60_000,
    );
    t.match(stuck.message, /may not be signalled \(EPERM/, 'journalled with the reason');
    const tb = query<{ health: string; health_reason: string }>(
      lab.dbFile,
      "select health, health_reason from testbeds where name = 'gamma-1'",
    )!;
    t.equal(tb.health, 'unknown', 'the testbed is quarantined');
    t.match(tb.health_reason, /cannot be stopped: process group \d+ may not be signalled/, 'with the reason');
    t.equal(
      query<{ holder: string }>(lab.dbFile, "select holder from locks where testbed = 'gamma-1'")?.holder,
      inst.id,
      'and stays locked by the instance: no other job gets it',
    );
    t.equal(liveRows(lab.dbFile).find((r) => r.id === inst.id)?.state, 'destroying');
    t.equal(uidOf(rooted), 0, 'while the root process lives');

    // The next job waits for the testbed; once the group is gone it runs there.
    const next = await lab.submitTasks('bitaxe', [{ name: 'after', script: 'echo after' }]);
    process.kill(rooted, 'SIGKILL');
    await waitFor(() => !liveRows(lab.dbFile).some((r) => r.id === inst.id), 'the instance to be destroyed', 60_000);
    const done = await lab.waitJob(next, ['completed', 'failed'], 120_000);
    t.equal(done.state, 'completed', 'the testbed is back in service');
    t.equal((await lab.job(job)).state, 'failed', 'the first job failed (its agent died)');

    await factory.stop(10_000);
    await lab.noLeaks(t);
  },
);

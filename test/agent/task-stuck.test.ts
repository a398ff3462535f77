// A task group the agent cannot stop, for real: the agent runs unprivileged and its task becomes
// root through a setuid helper (as `sudo` does), so the agent's SIGTERM and SIGKILL do not reach
// it. On a cancel the agent must keep running-task.json (the factory reads it and keeps the
// testbed out of service while the group lives) and say so in a worker note; once the group is
// gone, a task ends with the record cleared as usual.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { groupAlive } from '../../shared/process-tree.js';
import { mvmBin, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

const UNPRIVILEGED = 65534;
const SETPRIV = '/usr/bin/setpriv';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (to run the agent as another user and to make a setuid helper)';
  if (!existsSync(SETPRIV)) return `${SETPRIV} is missing (util-linux)`;
  return undefined;
}

const dist = (p: string) => pathToFileURL(join(mvmBin(), '..', '..', 'dist', p)).href;

/** Runs one task through the agent's runTask, as `uid`, cancelling it once the task says "rooted". */
const DRIVER = `
const [taskUrl, logUrl, dir, helper] = process.argv.slice(2);
const { runTask } = await import(taskUrl);
const { silentLogger } = await import(logUrl);
const notes = [];
const ac = new AbortController();
const result = await runTask(
  {
    job: 'J',
    task: 0,
    script: \`"\${helper}" --reuid=0 --regid=0 --clear-groups sh -c 'echo rooted; exec sleep 600'\`,
    scriptFile: dir + '/task.sh',
    cwd: dir,
    env: { PATH: process.env.PATH },
  },
  {
    agentDir: dir,
    onLine: (_s, l) => { if (l === 'rooted') ac.abort(); },
    onNote: (m) => notes.push(m),
    signal: ac.signal,
    graceMs: 300,
    log: silentLogger(),
  },
);
process.stdout.write(JSON.stringify({ result, notes }) + '\\n');
`;

t.test('a cancelled task group the agent may not signal keeps running-task.json', { skip: skipReason() }, async (t) => {
  const dir = tempDir(t, 'mvm-stuck-task-');
  chmodSync(dir, 0o755);
  chownSync(dir, UNPRIVILEGED, UNPRIVILEGED);
  const helper = join(dir, 'become-root');
  copyFileSync(SETPRIV, helper);
  chownSync(helper, 0, 0);
  chmodSync(helper, 0o4755);
  const driver = join(dir, 'driver.mjs');
  writeFileSync(driver, DRIVER);
  const child = spawn(process.execPath, [driver, dist('agent/task.js'), dist('shared/log.js'), dir, helper], {
    uid: UNPRIVILEGED,
    gid: UNPRIVILEGED,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const record = join(dir, 'running-task.json');
  let pgid: number | undefined;
  t.teardown(() => {
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
  // Learn the group while the task runs, so the teardown can end it whatever happens.
  pgid = await waitFor(
    () => (existsSync(record) ? (JSON.parse(readFileSync(record, 'utf8')) as { pgid: number }).pgid : undefined),
    'the task to start',
    30_000,
  );
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0, code === 0 ? 'the agent side ends' : err);
  const { result, notes } = JSON.parse(out) as { result: { stopped: boolean }; notes: string[] };
  t.equal(result.stopped, true, 'the task was cancelled');
  t.ok(groupAlive(pgid), 'its root process lives on');
  t.ok(existsSync(record), 'running-task.json is kept while the group lives');
  t.equal((JSON.parse(readFileSync(record, 'utf8')) as { pgid: number }).pgid, pgid, 'naming the group');
  t.match(
    notes.join('\n'),
    /exec error: the task's processes could not be stopped \(process group \d+ .*\); running-task\.json is kept/,
    'a worker note says why',
  );
  process.kill(-pgid, 'SIGKILL');
  await waitFor(() => !groupAlive(pgid!), 'the group to be gone', 30_000);
});

import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clearRunningTask,
  markJobStarted,
  readRunningTask,
  readStartedJob,
  writeRunningTask,
} from '../../agent/marker.js';
import { loadState, prepareWorkdir, saveState } from '../../agent/workdir.js';
import { MvmError } from '../../shared/errors.js';
import { tempDir } from '../helpers/tmp.js';

t.test('the started-job mark is created once and read back', async (t) => {
  const dir = tempDir(t);
  t.equal(readStartedJob(dir), undefined);
  const rec = { job: 'J1', name: 'build', startedAt: '2026-01-01T00:00:00Z', pid: 42 };
  markJobStarted(dir, rec);
  t.same(readStartedJob(dir), rec);
  t.throws(() => markJobStarted(dir, { ...rec, job: 'J2' }), { code: 'CONFLICT' }, 'a second job is refused');
  t.same(readStartedJob(dir), rec, 'the first mark is kept');
});

t.test('running-task.json follows the contract shape and is removed', async (t) => {
  const dir = tempDir(t);
  writeRunningTask(dir, { pgid: 123, job: 'J', task: 1 });
  t.same(JSON.parse(readFileSync(join(dir, 'running-task.json'), 'utf8')), { pgid: 123, job: 'J', task: 1 });
  t.same(readRunningTask(dir), { pgid: 123, job: 'J', task: 1 });
  clearRunningTask(dir);
  t.equal(readRunningTask(dir), undefined);
});

t.test('agent state is private to the user', async (t) => {
  const dir = tempDir(t);
  saveState(dir, { url: 'http://127.0.0.1:1', bootstrap: 'b', token: 'tok' });
  t.equal(statSync(join(dir, 'agent-state.json')).mode & 0o777, 0o600);
  t.same(loadState(dir), { url: 'http://127.0.0.1:1', bootstrap: 'b', token: 'tok' });
});

t.test('an unwritable workdir is a clear IO error with a hint', async (t) => {
  const parent = tempDir(t);
  const ro = join(parent, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o500);
  t.teardown(() => chmodSync(ro, 0o700));
  const file = join(parent, 'a-file');
  writeFileSync(file, 'x');
  // Root ignores permissions: a path below a regular file fails for everyone.
  const dirs = process.getuid?.() === 0 ? [join(file, 'sub')] : [ro, join(ro, 'sub'), join(file, 'sub')];
  for (const dir of dirs) {
    try {
      prepareWorkdir(dir);
      t.fail('should have thrown');
    } catch (err) {
      t.ok(err instanceof MvmError);
      t.equal((err as MvmError).code, 'IO');
      t.match((err as MvmError).message, /agent workdir .* is not usable/);
      t.match((err as MvmError).hint, /--workdir/);
    }
  }
});

// `mvm agent run` as a command: bad input gives clear errors; the bootstrap file is consumed.
import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMvm, startMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

t.test('an unusable workdir is a clear start-up error with a hint', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  const r = await runMvm([
    'agent',
    'run',
    '--url',
    'http://127.0.0.1:9',
    '--workdir',
    join(file, 'sub'),
    '--bootstrap',
    'b',
  ]);
  t.equal(r.code, 1);
  t.match(r.stderr, /mvm: error: agent workdir .*file\/sub is not usable/);
  t.match(r.stderr, /hint: pass --workdir a directory/);
});

t.test('no bootstrap string at all is a usage error', async (t) => {
  const r = await runMvm(['agent', 'run', '--url', 'http://127.0.0.1:9', '--workdir', tempDir(t)], {
    env: { MVM_BOOTSTRAP: undefined },
  });
  t.equal(r.code, 2);
  t.match(r.stderr, /no bootstrap string/);
});

t.test('a bad duration or URL is a usage error', async (t) => {
  const r = await runMvm(['agent', 'run', '--url', 'nope', '--workdir', tempDir(t), '--bootstrap', 'b']);
  t.equal(r.code, 2);
  t.match(r.stderr, /--url "nope" is not a URL/);
  const r2 = await runMvm([
    'agent',
    'run',
    '--url',
    'http://127.0.0.1:9',
    '--workdir',
    tempDir(t),
    '--bootstrap',
    'b',
    '--grace',
    'soon',
  ]);
  t.equal(r2.code, 2);
  t.match(r2.stderr, /--grace "soon" is not a duration/);
});

t.test('the bootstrap file is read and deleted; SIGTERM while bootstrapping ends cleanly', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'strap');
  writeFileSync(file, 'bootstrap-string\n', { mode: 0o600 });
  // Nothing listens on port 9: the agent keeps retrying the bootstrap.
  const a = startMvm(
    ['agent', 'run', '--url', 'http://127.0.0.1:9', '--workdir', join(dir, 'w'), '--bootstrap-file', file],
    { env: { MVM_LOG_LEVEL: 'debug' } },
  );
  t.teardown(() => a.stop(2000));
  await a.waitForLine(/server call failed; retrying/);
  t.notOk(existsSync(file), 'the bootstrap file is gone');
  t.equal(await a.stop(), 0);
});

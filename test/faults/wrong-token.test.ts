// A wrong factory token: the factory used to print "started" and then log a
// 401 on every pass, with a hint meant for the CLI. Now it exits 1 at start, before "started",
// with its own hint; `mvm factory --check` says the same when the server answers.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMvm } from '../helpers/mvm-process.js';
import { startLab } from '../factory/fixture.js';

t.test('a factory token the server does not know: refused at start and by --check', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const bad = join(lab.dir, 'bad-token.toml');
  writeFileSync(
    bad,
    readFileSync(lab.configFile, 'utf8').replace(`token = "${lab.factoryToken}"`, 'token = "not-a-factory-token"'),
  );
  const run = await runMvm(['factory', '-f', bad, '-d', join(lab.dir, 'bad.sqlite3')], { timeoutMs: 60_000 });
  t.equal(run.code, 4, 'the factory exits 4 (a refused token)');
  t.notMatch(run.stdout, /mvm factory started/, 'never says started');
  t.match(run.stderr, /refused the factory token \(401\)/);
  t.match(run.stderr, /mvm admin factory create NAME/, "the factory's own hint");
  const check = await runMvm(['factory', '-f', bad, '--check'], { timeoutMs: 60_000 });
  t.equal(check.code, 4, '--check exits 4');
  t.match(check.stderr, /refused the factory token/);
  const good = await runMvm(['factory', '-f', lab.configFile, '--check'], { timeoutMs: 60_000 });
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout, /the factory token is accepted/);
});

// Files that hold secrets are private whatever the umask: the job server's and the factory's
// databases (job environments, token hashes) 0600, their data folders 0700, the factory API's
// admin token 0600; a token file that every user can read is reported by the factory's check.
import t from 'tap';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMvm } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { startFactory, startLab } from '../factory/fixture.js';

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

t.test('databases, data folders and token files are private under umask 000', async (t) => {
  const old = process.umask(0o000); // the children inherit it: the worst case
  t.teardown(() => void process.umask(old));
  const base = tempDir(t, 'mvm-perms-');
  const dataDir = join(base, 'server-data');
  const srv = await startServer(t, { dataDir });
  await srv.createUser('alice'); // something in the database
  t.equal(mode(dataDir), '700', 'the server data folder');
  t.equal(mode(join(dataDir, 'server.sqlite')), '600', 'the server database');
  for (const d of ['files', 'tmp', 'files/chunks', 'files/outputs'])
    t.equal(mode(join(dataDir, d)), '700', `server ${d}/`);

  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const dbFile = join(base, 'factory-data', 'factory.sqlite3');
  const f = await startFactory(lab, { dbFile });
  t.equal(mode(join(base, 'factory-data')), '700', 'the factory data folder');
  t.equal(mode(dbFile), '600', 'the factory database');
  t.equal(mode(join(base, 'factory-data', 'factory-api-admin-token')), '600', "the factory API's admin token");
  for (const suffix of ['-wal', '-shm']) t.equal(mode(dbFile + suffix), '600', `the factory database's ${suffix} file`);
  t.equal(await f.stop(5000), 0);
});

t.test('the factory check warns about a token file every user can read', async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const dir = tempDir(t, 'mvm-perms-');
  mkdirSync(join(dir, 'etc'));
  const tokenFile = join(dir, 'etc', 'factory-token');
  writeFileSync(tokenFile, lab.factoryToken + '\n', { mode: 0o644 });
  const cfg = join(dir, 'factory.toml');
  const { readFileSync } = await import('node:fs');
  writeFileSync(cfg, readFileSync(lab.configFile, 'utf8').replace(/^token = ".*"$/m, `token_file = "${tokenFile}"`));
  const r = await runMvm(['factory', '-f', cfg, '--check']);
  t.equal(r.code, 0, 'still a valid config');
  t.match(
    r.stdout,
    new RegExp(
      `warning: .*factory\\.token_file: the token file ${tokenFile} can be read by every user on this machine \\(run: chmod 600`,
    ),
  );
});

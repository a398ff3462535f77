// shared/spawn.ts: the one way mvm starts a program.
import t from 'tap';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { spawnInGroup } from '../../shared/spawn.js';

t.test('a started program leads its own process group and sees only the environment given', async (t) => {
  const r = await spawnInGroup('/bin/bash', ['-c', 'echo "$ONLY:${HOME:-none}"'], { env: { ONLY: 'given' } });
  if (!r.ok) throw r.error;
  const pgid = Number(readFileSync(`/proc/${r.pid}/stat`, 'utf8').split(') ')[1].split(' ')[2]);
  t.equal(pgid, r.pid, 'pgid = pid');
  let out = '';
  r.child.stdout!.on('data', (c) => (out += c));
  const [code] = await once(r.child, 'close');
  t.equal(code, 0);
  t.equal(out.trim(), 'given:none');
});

t.test('a program that cannot start is an answer, not an exception: ENOENT, EACCES, E2BIG', async (t) => {
  const missing = await spawnInGroup('/nonexistent/program', [], { env: {} });
  t.match(missing, { ok: false, error: { code: 'ENOENT' } });
  const plain = join(tempDir(t), 'not-a-program');
  writeFileSync(plain, 'echo hi\n', { mode: 0o644 });
  const notExecutable = await spawnInGroup(plain, [], { env: {} });
  t.match(notExecutable, { ok: false, error: { code: 'EACCES' } });
  const env: Record<string, string> = {};
  for (let i = 0; i < 20_000; i++) env[`VAR_${i}`] = 'x'.repeat(200);
  const tooBig = await spawnInGroup('/bin/true', [], { env });
  t.match(tooBig, { ok: false, error: { code: 'E2BIG' } });
});

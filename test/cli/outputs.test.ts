import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { UserClient } from '../../shared/buildomat/user.js';
import { join, resolve } from 'node:path';
import { downloadOutputs, outputSegments, safeOutputPath } from '../../cli/outputs.js';
import { tempDir } from '../helpers/tmp.js';

t.test('outputs map to DIR/<path> and never outside', async (t) => {
  const dir = tempDir(t);
  t.equal(safeOutputPath(dir, '/work/output/a.txt'), join(resolve(dir), 'work/output/a.txt'));
  t.equal(safeOutputPath(dir, '//work//b'), join(resolve(dir), 'work/b'));
  for (const bad of ['/work/../../etc/passwd', 'relative.txt', '/', '/a/./b', '/a/\0b', '/..']) {
    t.throws(() => safeOutputPath(dir, bad), { code: 'IO', message: /refusing to write output/ }, bad);
  }
  t.same(outputSegments('/a/b'), { segments: ['a', 'b'] });
});

t.test('downloads every output; refuses unsafe names before writing anything, and symlinked directories', async (t) => {
  const dir = tempDir(t);
  const files: Record<string, string> = { O1: 'one', O2: 'two two' };
  const client = {
    outputs: async () => [
      { id: 'O1', path: '/work/output/a.txt', size: 3 },
      { id: 'O2', path: '/work/output/sub/b.txt', size: 7 },
    ],
    downloadOutput: async (_job: string, id: string) => Readable.from([Buffer.from(files[id])]),
  } as unknown as UserClient;
  const out = join(dir, 'out');
  const got = await downloadOutputs(client, 'J', out);
  t.same(
    got.map((g) => g.path),
    ['/work/output/a.txt', '/work/output/sub/b.txt'],
  );
  t.equal(readFileSync(join(out, 'work/output/sub/b.txt'), 'utf8'), 'two two');

  const evil = {
    ...client,
    outputs: async () => [
      { id: 'O1', path: '/work/output/a.txt', size: 3 },
      { id: 'O2', path: '/work/../../x', size: 7 },
    ],
  } as unknown as UserClient;
  const empty = join(dir, 'empty');
  await t.rejects(downloadOutputs(evil, 'J', empty), { message: /refusing to write output "\/work\/..\/..\/x"/ });
  t.notOk(existsSync(empty), 'nothing written when any name is unsafe');

  const linked = join(dir, 'linked');
  mkdirSync(linked);
  mkdirSync(join(dir, 'elsewhere'));
  symlinkSync(join(dir, 'elsewhere'), join(linked, 'work'));
  await t.rejects(downloadOutputs(client, 'J', linked), { message: /is not a directory/ });
  t.same(readdirSync(join(dir, 'elsewhere')), [], 'nothing written through the symlink');

  const short = { ...client, downloadOutput: async () => Readable.from([Buffer.from('x')]) } as unknown as UserClient;
  await t.rejects(downloadOutputs(short, 'J', join(dir, 'short')), {
    message: /received 1 bytes, the server listed 3/,
  });
  t.same(readdirSync(join(dir, 'short/work/output')), [], 'no partial file left');
});

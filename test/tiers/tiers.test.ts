// The test tiers (test/tiers/tiers.mjs), the unit tier's guard against spawning, and the guard
// that refuses to spawn a dist/ older than its sources.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MVM_BIN, projectPath } from '../../shared/paths.js';
import { assertDistFresh, staleSources } from '../helpers/dist-fresh.js';
import { tempDir } from '../helpers/tmp.js';
import { SLOW, UNIT, allTestFiles, tierFiles } from './tiers.mjs';

const GUARD = projectPath('test', 'tiers', 'unit-guard.mjs');

t.test('the tier lists name existing test files, and test:fast leaves out exactly the slow ones', async (t) => {
  const all = allTestFiles();
  t.ok(all.length > 100, `${all.length} test files`);
  for (const f of [...UNIT, ...SLOW]) t.ok(all.includes(f), `${f} is a test file`);
  t.same(
    UNIT.filter((f) => SLOW.includes(f)),
    [],
    'no file is both unit and slow',
  );
  const fast = tierFiles('fast');
  t.equal(fast.length, all.length - SLOW.length);
  t.notOk(
    fast.some((f) => SLOW.includes(f)),
    'test:fast runs no slow file',
  );
  t.throws(() => tierFiles('quick'), /unknown tier "quick": expected unit or fast/);
  // Narrowed to files outside the tier, it says so (tap given no file would run every test).
  const r = spawnSync(process.execPath, [projectPath('test', 'tiers', 'tiers.mjs'), 'unit', 'test/demo'], {
    cwd: projectPath(),
    encoding: 'utf8',
  });
  t.equal(r.status, 2);
  t.match(r.stderr, /no test file of the unit tier is under test\/demo \(run other files with `npx tap FILE`/);
});

t.test('the job server tests run in-process, but for those that say at the top why they spawn it', async (t) => {
  const server = allTestFiles().filter((f) => f.startsWith('test/server/'));
  const spawning = server.filter((f) => !UNIT.includes(f));
  t.ok(
    server.length - spawning.length >= 10,
    `${server.length - spawning.length} of ${server.length} in the unit tier`,
  );
  for (const f of spawning) {
    const head = readFileSync(projectPath(f), 'utf8').split('\n').slice(0, 6).join('\n');
    t.match(head, /Spawns `mvm server` \(.+/, `${f} says why it spawns the server`);
  }
});

t.test('the unit guard refuses to start the compiled CLI or a real peer, and allows small tools', async (t) => {
  const dir = tempDir(t);
  const run = (name: string, body: string) => {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, `import { spawnSync, execFileSync } from 'node:child_process';\n${body}\n`);
    return spawnSync(process.execPath, ['--import', GUARD, file], { encoding: 'utf8' });
  };
  const cli = run('cli', `spawnSync(process.execPath, [${JSON.stringify(MVM_BIN)}, '--version']);`);
  t.not(cli.status, 0);
  t.match(cli.stderr, /unit tier: .*cli\.mjs started the compiled CLI \(bin\/mvm\.js\)/);
  t.match(cli.stderr, /remove this file from the unit list in test\/tiers\/tiers\.mjs/);

  const sshd = run('sshd', `execFileSync('/usr/sbin/sshd', ['-V']);`);
  t.not(sshd.status, 0);
  t.match(sshd.stderr, /started sshd/);

  const dist = run('dist', `spawnSync(process.execPath, ['${projectPath('dist', 'cli', 'main.js')}']);`);
  t.match(dist.stderr, /started compiled code under dist\//);

  const bash = run('bash', `const r = spawnSync('bash', ['-c', 'echo fine']); process.stdout.write(String(r.stdout));`);
  t.equal(bash.status, 0, bash.stderr);
  t.equal(bash.stdout.trim(), 'fine');
});

/** A checkout with one source and its compiled file, their times set. */
function checkout(t: Parameters<typeof tempDir>[0], srcTime: number, outTime: number | null): string {
  const root = tempDir(t);
  mkdirSync(join(root, 'shared'), { recursive: true });
  mkdirSync(join(root, 'dist', 'shared'), { recursive: true });
  writeFileSync(join(root, 'shared', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(root, 'shared', 'types.d.ts'), 'export type X = 1;\n');
  utimesSync(join(root, 'shared', 'a.ts'), srcTime, srcTime);
  if (outTime !== null) {
    writeFileSync(join(root, 'dist', 'shared', 'a.js'), 'export const a = 1;\n');
    utimesSync(join(root, 'dist', 'shared', 'a.js'), outTime, outTime);
  }
  return root;
}

t.test('a dist/ older than its sources, or missing a file, is refused with the command to run', async (t) => {
  t.same(staleSources(checkout(t, 1000, 2000)), [], 'built after the last change');
  t.same(staleSources(checkout(t, 3000, 2000)), ['shared/a.ts'], 'changed after the build');
  t.same(staleSources(checkout(t, 1000, null)), ['shared/a.ts'], 'never built');
  t.throws(() => assertDistFresh(checkout(t, 3000, 2000)), {
    message: /dist\/ is older than its sources \(shared\/a\.ts\).*Run `npx tsc -p tsconfig\.json`/,
  });
  t.doesNotThrow(() => assertDistFresh(checkout(t, 1000, 2000)));
  t.ok(existsSync(projectPath('dist')), 'this checkout is built');
});

t.test('startMvm refuses a stale dist/ before spawning anything', async (t) => {
  const root = checkout(t, 3000, 2000);
  const paths = { PROJECT_ROOT: root, MVM_BIN: join(root, 'bin', 'mvm.js'), projectPath };
  // The mocks name the .ts sources: tsx resolves a `.js` import in TypeScript to its `.ts` file
  // before tap's mock loader sees it.
  const distFresh = await t.mockImport<typeof import('../helpers/dist-fresh.js')>('../helpers/dist-fresh.js', {
    '../../shared/paths.ts': paths,
  });
  const { startMvm } = await t.mockImport<typeof import('../helpers/mvm-process.js')>('../helpers/mvm-process.js', {
    '../../shared/paths.ts': paths,
    '../helpers/dist-fresh.ts': distFresh,
  });
  t.throws(() => startMvm(['--version']), { message: /dist\/ is older than its sources \(shared\/a\.ts\)/ });
});

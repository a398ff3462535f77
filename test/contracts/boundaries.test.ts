// The contracts module is the one home of what crosses a process boundary, statically: the
// factory imports nothing of the runner's or the agent's but the reviewed seams below, and the
// names of the files in an instance's folder are spelled in shared/contracts/layout.ts only (the
// SSH host's shell scripts, fixed texts, spell them too: each must be one of the layout's names).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { INSTANCE_FILES } from '../../shared/contracts/layout.js';
import { projectPath } from '../../shared/paths.js';

function sources(root: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(projectPath(root), { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) continue;
    const file = join(e.parentPath, e.name);
    if (!/\/(node_modules|dist|migrations)\//.test(file)) out.push(file);
  }
  return out;
}

/** Comments blanked, so a comment naming a file or a module is no match. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/[^\n]*/g, (m, p: string) => p + ' '.repeat(m.length - p.length));
}

/** Every module a file imports (static, re-export, dynamic), as a path relative to the checkout. */
function importsOf(file: string): string[] {
  const text = code(readFileSync(file, 'utf8'));
  const specs = [
    ...text.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(projectPath(), resolve(dirname(file), s)));
}

/** The factory's reviewed imports of runner code: domain rules the runner owns and the factory must apply identically. */
const SEAMS: Array<{ module: string; why: string }> = [
  {
    module: 'runner/drivers/modes.js',
    why: 'a testbed baseline `mode` is accepted by the factory config check exactly when the driver takes it (the fleet uses the same seam)',
  },
  {
    module: 'runner/device-tests/assign.js',
    why: "placing a job on a testbed must match a test definition's devices exactly as the runner will assign them",
  },
];

t.test('the factory imports no runner or agent internals', async (t) => {
  const found: string[] = [];
  const used = new Set<string>();
  const files = sources('factory');
  t.ok(files.length > 40, `${files.length} factory sources scanned`);
  for (const file of files) {
    for (const target of importsOf(file)) {
      if (!/^(runner|agent)\//.test(target)) continue;
      const seam = SEAMS.find((s) => s.module === target);
      if (seam) used.add(seam.module);
      else found.push(`${relative(projectPath(), file)} imports ${target}`);
    }
  }
  t.same(found, [], 'what the factory shares with the runner and the agent goes through shared/contracts');
  t.same(
    SEAMS.filter((s) => !used.has(s.module)).map((s) => s.module),
    [],
    'every reviewed seam is still used (stale ones removed)',
  );
});

t.test('the instance-folder file names are spelled in shared/contracts/layout.ts only', async (t) => {
  const names = Object.values(INSTANCE_FILES).filter((n) => n.includes('.'));
  const quoted = new RegExp(`['"\`][^'"\`\\n]*\\b(${names.map((n) => n.replace(/\./g, '\\.')).join('|')})\\b`);
  const found: string[] = [];
  for (const root of ['factory', 'agent', 'runner', 'shared', 'cli']) {
    for (const file of sources(root)) {
      const rel = relative(projectPath(), file);
      if (rel === 'shared/contracts/layout.ts' || rel === 'factory/executor/ssh/remote-scripts.ts') continue;
      code(readFileSync(file, 'utf8'))
        .split('\n')
        .forEach((line, i) => {
          // Messages and help texts may name a file for people; code may not build a path from one.
          if (quoted.test(line) && !/hint:|describe:|message|MvmError|`[^`]*\$\{/.test(line))
            found.push(`${rel}:${i + 1}: ${line.trim().slice(0, 120)}`);
        });
    }
  }
  t.same(found, [], 'paths are built from INSTANCE_FILES');

  // The SSH host's scripts are fixed shell texts (no interpolation): every file they name in a
  // workdir must be one of the layout's names (or its temporary twin).
  const scripts = readFileSync(projectPath('factory', 'executor', 'ssh', 'remote-scripts.ts'), 'utf8');
  const named = new Set([...scripts.matchAll(/"\$(?:w|1)\/([A-Za-z0-9._-]+)/g)].map((m) => m[1]));
  t.ok(named.size >= 5, `the scripts name ${[...named].join(', ')}`);
  const layout = new Set<string>(Object.values(INSTANCE_FILES));
  t.same(
    [...named].filter((n) => !layout.has(n) && !layout.has(n.replace(/\.tmp$/, '')) && !n.startsWith('.mvm-')),
    [],
    'every file the remote scripts touch is in the layout',
  );
});

/** The modules a file loads when it runs: `import type`, `export type` and `typeof import()` load nothing. */
function runtimeImportsOf(file: string): string[] {
  const text = code(readFileSync(file, 'utf8')).replace(/\b(import|export)\s+type\b[^;]*?\bfrom\s+['"][^'"]+['"]/g, '');
  return [
    ...text.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/(?<!typeof\s+)\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
  ].map((m) => m[1]!);
}

t.test('no runner command loads TypeBox or ajv: its reports are judged from plain data', async (t) => {
  // A runner runs after every job (the restore) and for every device command: its reports and
  // infra entries are judged from shared/contracts/judged/, not compiled from the TypeBox schema
  // (≈ 120–150 ms of CPU a process).
  const seen = new Set<string>();
  const heavy: string[] = [];
  const visit = (file: string, from: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of runtimeImportsOf(projectPath(file))) {
      if (/^(@sinclair\/typebox|ajv)/.test(spec)) heavy.push(`${file} imports ${spec} (reached from ${from})`);
      if (!spec.startsWith('.')) continue;
      const target = relative(projectPath(), resolve(dirname(projectPath(file)), spec)).replace(/\.js$/, '.ts');
      visit(target, file);
    }
  };
  for (const entry of readdirSync(projectPath('runner', 'cli')).map((f) => `runner/cli/${f}`)) visit(entry, entry);
  t.ok(seen.has('shared/contracts/runner-report.ts'), `${seen.size} modules reached, the report's contract among them`);
  t.same(heavy, []);
});

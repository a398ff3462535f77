// The command line reaches the code that uses it without a cast: every command's builder declares
// its options, yargs infers the argument type from them, and the handler (or the action it names)
// takes that type. A cast that silences the compiler (`as never`, `as unknown as`) hides an option
// renamed or dropped on one side only, so none may come back in a command definition.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectPath } from '../../shared/paths.js';

const ROOTS = ['agent', 'cli', 'factory', 'fleet', 'runner', 'server', 'sim'];

/** The files that define commands: each folder's command.ts, and every file that uses yargs or the command helpers. */
function commandDefinitions(): string[] {
  const out: string[] = [];
  for (const root of ROOTS) {
    for (const e of readdirSync(projectPath(root), { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.d.ts')) continue;
      const file = join(e.parentPath, e.name);
      if (/\/(node_modules|dist)\//.test(file)) continue;
      const text = readFileSync(file, 'utf8');
      if (
        e.name === 'command.ts' ||
        /from\s+['"]yargs['"]/.test(text) ||
        /\b(defineCommand|lazyFleetCommand)\(/.test(text)
      )
        out.push(relative(projectPath(), file));
    }
  }
  return out.sort();
}

t.test('no command definition casts its arguments', async (t) => {
  const files = commandDefinitions();
  for (const expected of [
    'agent/command.ts',
    'cli/fleet.ts',
    'cli/job.ts',
    'cli/testbeds.ts',
    'factory/command.ts',
    'fleet/command.ts',
    'runner/command.ts',
    'server/command.ts',
    'sim/command.ts',
  ])
    t.ok(files.includes(expected), `${expected} is scanned`);
  const found: string[] = [];
  for (const file of files) {
    readFileSync(projectPath(file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (/\bas\s+(never|unknown\s+as)\b/.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  t.same(
    found,
    [],
    'builders declare their options; handlers take what yargs infers (see defineCommand in cli/command.ts)',
  );
});

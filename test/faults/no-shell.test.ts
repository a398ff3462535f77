// Security, statically: no shell command line is ever built from configuration or job data. The
// sources are scanned for every way a string could reach a shell — `shell: true`, child_process
// exec/execSync, execa's command and template forms, `sh -c` / `bash -c` with a built string,
// a spawned program given as a template string, eval — and the few deliberate, reviewed
// exceptions are listed below, each with why it is safe. A new match fails this test: review it,
// then fix it or add it here with its justification.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectPath } from '../../shared/paths.js';

const ROOTS = ['bin', 'cli', 'server', 'factory', 'agent', 'runner', 'shared', 'bench'];

interface Rule {
  name: string;
  re: RegExp;
}

const RULES: Rule[] = [
  { name: 'shell: true', re: /\bshell\s*:\s*(true|['"`])/ },
  {
    name: 'child_process exec/execSync (a command line for a shell)',
    re: /\bimport\s*\{[^}]*\b(exec|execSync)\b[^}]*\}\s*from\s*['"](node:)?child_process['"]|\bchild_process\b[^;\n]*\.(exec|execSync)\s*\(|(?<![.\w])execSync\s*\(/,
  },
  {
    name: "execa's command forms (a string split or run by a shell)",
    re: /\bexecaCommand(Sync)?\b|(?<![\w$}])\$(\.sync)?\s*`|(?<![\w$])\$\(\s*\{/,
  },
  {
    name: 'a spawned program given as a template string',
    re: /\b(spawn|spawnSync|execa|execFile|execFileSync|fork)\s*\(\s*`/,
  },
  { name: 'a shell run with -c', re: /['"`](\/bin\/|\/usr\/bin\/)?(sh|bash|zsh|dash)['"`]\s*,\s*\[?\s*['"`]-c['"`]/ },
  { name: 'eval or new Function', re: /(?<![.\w])eval\s*\(|\bnew\s+Function\s*\(/ },
];

/**
 * The reviewed exceptions: file, rule, and why it is safe. Each must still match (so a stale
 * entry is noticed and removed).
 */
const ALLOWED: Array<{ file: string; rule: string; why: string }> = [
  {
    file: 'factory/executor/ssh/quote.ts',
    rule: 'a shell run with -c',
    why: 'shellScript() runs a constant script from factory/executor/ssh/remote-scripts.ts as `sh -c SCRIPT NAME ARGS…`: the data only ever arrives as positional parameters ("$1"…), and the whole argv is then shell-quoted word by word (shellCommand) because SSH itself carries one command line. The scripts\' constancy is checked below; the quoting by test/ssh/unit.test.ts (round trip through a real sh) and test/ssh/remote-agent.test.ts (injection attempts).',
  },
  {
    file: 'agent/task-sandbox.ts',
    rule: 'a shell run with -c',
    why: "INIT_SHELL runs TASK_INIT, a constant script (the PID namespace's init), as `sh -c SCRIPT NAME ARGS…` through execa's argv (no shell parses the command line): the job's folder, cwd, uid and the task's own argv only ever arrive as positional parameters, expanded inside double quotes. Checked by test/agent/task-sandbox.test.ts (the argv: a constant init, inputs as arguments).",
  },
];

function sources(): string[] {
  const out: string[] = [];
  for (const root of ROOTS) {
    const dir = projectPath(root);
    for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !/\.(ts|js|mjs|cjs)$/.test(e.name) || e.name.endsWith('.d.ts')) continue;
      const file = join(e.parentPath, e.name);
      if (/\/(node_modules|dist|migrations)\//.test(file)) continue;
      out.push(file);
    }
  }
  return out;
}

/** The text with comments blanked (lines kept), so a comment that mentions `shell: true` is no match. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`\\])\/\/[^\n]*/g, (m, p: string) => p + ' '.repeat(m.length - p.length));
}

t.test('no shell string is built from config or job data', async (t) => {
  const files = sources();
  t.ok(files.length > 100, `${files.length} source files scanned`);
  const found: string[] = [];
  const used = new Set<string>();
  for (const file of files) {
    const rel = relative(projectPath(), file);
    const lines = code(readFileSync(file, 'utf8')).split('\n');
    for (const rule of RULES) {
      lines.forEach((line, i) => {
        if (!rule.re.test(line)) return;
        const allowed = ALLOWED.find((a) => a.file === rel && a.rule === rule.name);
        if (allowed) used.add(`${allowed.file}|${allowed.rule}`);
        else found.push(`${rel}:${i + 1}: ${rule.name}: ${line.trim().slice(0, 120)}`);
      });
    }
  }
  t.same(found, [], 'no unreviewed way to reach a shell');
  t.same(
    ALLOWED.filter((a) => !used.has(`${a.file}|${a.rule}`)).map((a) => `${a.file}: ${a.rule}`),
    [],
    'every allowed exception still exists (stale ones removed)',
  );
});

t.test('the remote scripts are constants and every sh -c runs one of them', async (t) => {
  const scripts = readFileSync(projectPath('factory', 'executor', 'ssh', 'remote-scripts.ts'), 'utf8');
  // In a JS template `${` is always interpolation (a shell `${x}` would have to be written `\${x}`).
  t.notMatch(
    code(scripts),
    /(?<!\\)\$\{/,
    'no interpolation in factory/executor/ssh/remote-scripts.ts: the script texts are fixed',
  );
  const exported = new Set([...scripts.matchAll(/^export const ([A-Z_]+)\s*=/gm)].map((m) => m[1]));
  t.ok(exported.size >= 5, `${exported.size} remote scripts`);
  const calls: string[] = [];
  for (const file of sources()) {
    const text = code(readFileSync(file, 'utf8'));
    for (const m of text.matchAll(/\bshellScript\(\s*([^,]+),/g)) {
      if (file.endsWith('factory/executor/ssh/quote.ts')) continue; // its definition
      calls.push(`${relative(projectPath(), file)}: ${m[1].trim()}`);
    }
  }
  t.ok(calls.length > 0, `${calls.length} shellScript calls`);
  t.same(
    calls.filter((c) => !exported.has(c.split(': ')[1])),
    [],
    'every shellScript call runs a constant from remote-scripts.ts',
  );
  // And on the remote side each command line is built by shellCommand (every word quoted).
  const conn = code(readFileSync(projectPath('factory', 'executor', 'ssh', 'connection.ts'), 'utf8'));
  const execs = [...conn.matchAll(/\.client\.exec\(\s*([^,]+),/g)].map((m) => m[1].trim());
  t.same(execs, ['command'], 'the SSH connection runs one command variable');
  t.match(conn, /const command = shellCommand\(argv\);/, 'which is built by shellCommand from an argv array');
});

t.test('the rules catch what they are for (and not argv arrays)', async (t) => {
  const bad = [
    'spawn(cmd, { shell: true })',
    "import { exec } from 'node:child_process';",
    'execSync(`rm -rf ${dir}`)',
    "await execaCommand('git status')",
    'await $`ls ${dir}`',
    'execa(`${tool} --flash`)',
    "spawn('sh', ['-c', `mvm ${args}`])",
    "spawn('/bin/bash', ['-c', line])",
    'eval(code)',
  ];
  const good = [
    "execa('/bin/bash', [spec.scriptFile], { detached: true })",
    "spawn(argv[0], argv.slice(1), { stdio: 'pipe' })",
    'const m = /^x$/.exec(text);',
    'new RegExp(`^${src}$`)',
    "const sh = 'sh';",
  ];
  for (const line of bad)
    t.ok(
      RULES.some((r) => r.re.test(line)),
      `caught: ${line}`,
    );
  for (const line of good)
    t.notOk(
      RULES.some((r) => r.re.test(line)),
      `allowed: ${line}`,
    );
});

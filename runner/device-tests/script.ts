// The test definition's script → argv. An argv array runs as given; a single string must be a
// file, run directly when executable or by the interpreter its extension names. Never a shell.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { MvmError } from '../../shared/errors.js';

const INTERPRETERS: Record<string, string[]> = {
  '.py': ['python3'],
  '.sh': ['bash'],
  '.bash': ['bash'],
  '.js': [process.execPath],
  '.mjs': [process.execPath],
  '.cjs': [process.execPath],
};

export function scriptArgv(script: string | string[], dir: string): string[] {
  if (Array.isArray(script)) {
    const [cmd, ...rest] = script;
    // A relative path (not a bare command name) is relative to the definition's folder.
    const first = cmd.includes('/') && !isAbsolute(cmd) ? resolve(dir, cmd) : cmd;
    return [first, ...rest.map((a) => (a.startsWith('./') ? resolve(dir, a) : a))];
  }
  const file = isAbsolute(script) ? script : resolve(dir, script);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new MvmError('CONFIG_INVALID', `script ${JSON.stringify(script)}: no such file (looked for ${file})`, {
      hint: 'a script string names a file next to the test definition; to run a command give an argv array, e.g. ["python3", "-m", "pytest"]',
    });
  }
  try {
    accessSync(file, constants.X_OK);
    return [file];
  } catch {
    /* not executable: use an interpreter */
  }
  const interp = INTERPRETERS[extname(file).toLowerCase()];
  if (!interp) {
    throw new MvmError('CONFIG_INVALID', `script ${file} is not executable and its extension names no interpreter`, {
      hint: `chmod +x it (with a #! line), use one of ${Object.keys(INTERPRETERS).join(' ')}, or give an argv array`,
    });
  }
  return [...interp, file];
}

// Paths in the config: `~` is the home directory, relative paths are relative to the config file.
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return p;
}

export function resolveConfigPath(configFile: string, p: string): string {
  const e = expandHome(p);
  return isAbsolute(e) ? e : resolve(dirname(configFile), e);
}

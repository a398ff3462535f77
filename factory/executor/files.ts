// Names of the files the factory shares with agents and the runner, locally and on SSH hosts.
import { createHash } from 'node:crypto';

/** The runner's infrastructure-failure report, beside testbed.json in an instance's workdir. */
export { INFRA_REPORT_FILE as INFRA_REPORT } from '../../runner/infra-report.js';

/**
 * A folder name for a testbed: its name when that is a plain word, else a sanitised form with a
 * hash, so names with "/", ".." or shell metacharacters never become paths of their own.
 */
export function testbedDirName(name: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) && !name.includes('..')) return name;
  const safe = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.\.+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 40);
  return `${safe || 'testbed'}-${createHash('sha256').update(name).digest('hex').slice(0, 10)}`;
}

// The `agent = { mode = "ssh", … }` table of a testbed, validated into an SshAgentConfig.
// Every problem is reported (file, key, what to do), not just the first.
import { homedir, userInfo } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigProblem } from '../../shared/errors.js';
import type { HostKeyPolicy } from './known-hosts.js';

export interface SshAgentConfig {
  host: string;
  port: number;
  user: string;
  /** Private key file (OpenSSH or PEM, unencrypted); without it, ssh-agent is used. */
  identityFile: string | undefined;
  hostKey: HostKeyPolicy;
  /** Where agents run on the remote host; each instance gets a directory below it. */
  remoteWorkdir: string;
  /** The `mvm` executable on the remote host, as argv (e.g. ["node", "/opt/mvm/bin/mvm.js"]). */
  remoteCommand: string[];
}

const KEYS = ['mode', 'host', 'port', 'user', 'identity_file', 'known_hosts', 'host_key', 'remote_workdir', 'remote_command'];
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/**
 * Validates an ssh agent table. `key` locates it in the file (e.g. `testbed.bench-1.agent`);
 * relative paths are taken from `baseDir` (the configuration file's directory).
 */
export function parseSshAgentConfig(
  raw: Record<string, unknown>,
  where: { file: string; key: string; baseDir?: string },
): { config?: SshAgentConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const problem = (k: string, message: string, hint?: string) =>
    problems.push({ file: where.file, key: `${where.key}.${k}`, message, hint });
  const path = (p: string) => (isAbsolute(p) ? p : resolve(where.baseDir ?? process.cwd(), p));
  const str = (k: string): string | undefined => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      problem(k, `must be a non-empty string, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  };

  for (const k of Object.keys(raw)) {
    if (!KEYS.includes(k)) problem(k, 'unknown key', `the ssh agent table takes: ${KEYS.join(', ')}`);
  }
  if (raw.mode !== 'ssh') problem('mode', `expected "ssh", got ${JSON.stringify(raw.mode)}`);

  const host = str('host');
  if (host === undefined && raw.host === undefined) problem('host', 'missing', 'set host = "name or address of the testbed host"');
  else if (host !== undefined && (/\s/.test(host) || host.startsWith('-')))
    problem('host', `${JSON.stringify(host)} is not a host name or address`);

  let port = 22;
  if (raw.port !== undefined) {
    if (typeof raw.port !== 'number' || !Number.isInteger(raw.port) || raw.port < 1 || raw.port > 65535)
      problem('port', `must be an integer 1–65535, got ${JSON.stringify(raw.port)}`);
    else port = raw.port;
  }
  const user = str('user') ?? userInfo().username;
  const identity = str('identity_file');

  const knownHosts = str('known_hosts');
  const pinned = str('host_key');
  if (pinned !== undefined && !FINGERPRINT.test(pinned))
    problem('host_key', `${JSON.stringify(pinned)} is not a SHA256 fingerprint`, 'copy it from `ssh-keygen -l -f /etc/ssh/ssh_host_ed25519_key.pub` run on the host, e.g. "SHA256:uW1…"');
  if (pinned !== undefined && knownHosts !== undefined)
    problem('host_key', 'give either known_hosts or host_key, not both');
  const hostKey: HostKeyPolicy =
    pinned !== undefined ? { fingerprint: pinned } : { knownHosts: path(knownHosts ?? `${homedir()}/.ssh/known_hosts`) };

  const remoteWorkdir = str('remote_workdir');
  if (raw.remote_workdir === undefined) problem('remote_workdir', 'missing', 'set remote_workdir = "/var/lib/mvm" (an absolute directory on the testbed host the user can write)');
  else if (remoteWorkdir !== undefined && !remoteWorkdir.startsWith('/'))
    problem('remote_workdir', `must be an absolute path, got ${JSON.stringify(remoteWorkdir)}`);

  let remoteCommand = ['mvm'];
  const rc = raw.remote_command;
  if (typeof rc === 'string' && rc.trim() !== '') remoteCommand = rc.trim().split(/\s+/);
  else if (Array.isArray(rc) && rc.length > 0 && rc.every((w) => typeof w === 'string' && w !== '')) remoteCommand = rc as string[];
  else if (rc !== undefined)
    problem('remote_command', `must be a command (string) or argv (array of strings), got ${JSON.stringify(rc)}`, 'e.g. remote_command = "/usr/local/bin/mvm" or ["node", "/opt/mvm/bin/mvm.js"]');

  if (problems.length > 0) return { problems };
  return {
    problems,
    config: {
      host: host!,
      port,
      user,
      identityFile: identity === undefined ? undefined : path(identity),
      hostKey,
      remoteWorkdir: remoteWorkdir!,
      remoteCommand,
    },
  };
}

/** `user@host:port`, the name an SSH destination has in messages and in the connection pool. */
export function destinationOf(c: { user: string; host: string; port: number }): string {
  return `${c.user}@${c.host}:${c.port}`;
}

// A real OpenSSH server on 127.0.0.1 for tests: fresh host and client keys in a temp dir, a
// config that only accepts the generated client key, readiness awaited by polling with a
// deadline, and teardown by PID. Tests skip (with a message) when /usr/sbin/sshd is missing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { SshTarget } from '../../factory/executor/ssh/connection.js';
import { MVM_BIN } from '../../shared/paths.js';
import { inline } from './toml.js';

export const SSHD_BIN = '/usr/sbin/sshd';

/** Why SSH tests cannot run here, or undefined when they can. */
export function sshdUnavailable(): string | undefined {
  if (!existsSync(SSHD_BIN)) return `${SSHD_BIN} is missing: install openssh-server to run the SSH tests`;
  const keygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
  if (keygen.error) return 'ssh-keygen is missing: install openssh-client to run the SSH tests';
  return undefined;
}

/**
 * A real sshd for a whole test file, started before its first test and stopped after its last; or,
 * where none can run, undefined and the file planned as skipped, saying why (`what` names its tests).
 * The object is filled in when the server has started: read it inside tests only.
 */
export function sshdForFile(
  t: { comment(msg: string): void; plan(n: number, why?: string): void; before(fn: () => Promise<void>): void } & {
    teardown(fn: () => unknown): void;
  },
  what: string,
): Sshd | undefined {
  const why = sshdUnavailable();
  if (why) {
    t.comment(`skipping ${what}: ${why}`);
    t.plan(0, why);
    return undefined;
  }
  const sshd = {} as Sshd;
  // Copied with their descriptors: `pid` is a getter that follows restarts.
  t.before(async () => void Object.defineProperties(sshd, Object.getOwnPropertyDescriptors(await startSshd(t))));
  return sshd;
}

/** This server as a connection target: its client key, its host key from known_hosts, no ssh-agent. */
export function sshTargetOf(sshd: Sshd, over: Partial<SshTarget> = {}): SshTarget {
  return {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    identityFile: sshd.identityFile,
    hostKey: { knownHosts: sshd.knownHosts },
    agentSocket: '',
    ...over,
  };
}

/**
 * The agent table of a factory testbed whose agent runs on this server's host: its keys,
 * `remote_workdir`, the real `mvm` as the remote command; `over` adds or replaces keys.
 */
export function sshAgentTable(
  sshd: Sshd,
  remoteWorkdir: string,
  over: Record<string, string | string[]> = {},
): Record<string, string | number | string[]> {
  return {
    mode: 'ssh',
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    identity_file: sshd.identityFile,
    known_hosts: sshd.knownHosts,
    remote_workdir: remoteWorkdir,
    remote_command: [process.execPath, MVM_BIN],
    ...over,
  };
}

/** The same as a testbed's `agent = { … }` line. */
export function sshAgentLine(sshd: Sshd, remoteWorkdir: string, over: Record<string, string | string[]> = {}): string {
  return `agent = ${inline(sshAgentTable(sshd, remoteWorkdir, over))}`;
}

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  user: string;
  dir: string;
  /** The generated client private key (ed25519, no passphrase). */
  identityFile: string;
  /** A known_hosts file listing this server's host key as `[127.0.0.1]:port`. */
  knownHosts: string;
  /** The host public key line (`ssh-ed25519 AAAA…`). */
  hostPublicKey: string;
  /** `SHA256:…` fingerprint of the host key. */
  hostFingerprint: string;
  /** Server log lines (sshd -e writes its log to stderr). */
  log: string[];
  /** The listener's pid (changes on restart). */
  readonly pid: number;
  /** Stops the server (listener and connections) but keeps its keys and port for restart(). */
  halt(): Promise<void>;
  /** Starts the server again on the same port with the same keys. */
  restart(): Promise<void>;
  /** PIDs of the per-connection sshd processes (sshd descendants of the listener; not the shells they run). */
  connectionPids(): number[];
  /** A second key pair not authorised on this server. */
  makeKey(name: string): { identityFile: string; publicKey: string };
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function keygen(file: string, comment: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed for ${file}: ${r.stderr}`);
}

function fingerprint(pubFile: string): string {
  const r = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen -l failed: ${r.stderr}`);
  return r.stdout.split(' ')[1]!;
}

/** Resolves once the server answers with an SSH banner, or rejects at the deadline. */
async function waitForBanner(port: number, child: ChildProcess, log: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `sshd exited (${child.exitCode ?? child.signalCode}) before accepting connections:\n${log.join('\n')}`,
      );
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      const done = (v: boolean) => {
        sock.destroy();
        resolve(v);
      };
      sock.once('data', (d) => done(d.toString().startsWith('SSH-')));
      sock.once('error', () => done(false));
      sock.setTimeout(1000, () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`sshd did not accept connections on port ${port} within ${timeoutMs} ms:\n${log.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts sshd; stops it in t.teardown. */
export async function startSshd(t: { teardown(fn: () => unknown): void }): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-sshd-'));
  try {
    mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  } catch {
    /* not root: sshd reports it if it needs the directory */
  }
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  keygen(hostKey, 'mvm-test-host');
  keygen(clientKey, 'mvm-test-client');
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const port = await freePort();
  const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  const cfg = join(dir, 'sshd_config');
  writeFileSync(
    cfg,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      // tests run as root in throw-away temp dirs whose modes sshd would otherwise reject
      'StrictModes no',
      'UsePAM no',
      'UseDNS no',
      'PrintMotd no',
      'LogLevel VERBOSE',
      'MaxStartups 50',
      `Subsystem sftp internal-sftp`,
      '',
    ].join('\n'),
  );
  const log: string[] = [];
  let child: ChildProcess;
  let exited: Promise<unknown>;
  const launch = async () => {
    child = spawn(SSHD_BIN, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    exited = once(child, 'exit');
    child.stderr!.setEncoding('utf8');
    let partial = '';
    child.stderr!.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      log.push(...lines);
    });
    await waitForBanner(port, child, log, 15_000);
  };
  const connectionPids = (): number[] => {
    // the sshd processes below the listener (per-connection monitor and session process) — not
    // the user's shells: killing a shell mid-startup can leave its rc files' locks behind
    const r = spawnSync('ps', ['-eo', 'pid=,ppid=,comm='], { encoding: 'utf8' });
    const procs = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .map(([pid, ppid, comm]) => ({ pid: Number(pid), ppid: Number(ppid), comm }));
    const found: number[] = [];
    let frontier = [child.pid!];
    while (frontier.length > 0) {
      const next = procs.filter((p) => frontier.includes(p.ppid) && p.comm === 'sshd').map((p) => p.pid);
      found.push(...next);
      frontier = next;
    }
    return found;
  };
  /** Ends the listener and every connection it serves. */
  const halt = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // The listener first, so that nothing reconnects in between; then the per-connection
    // processes, which outlive it (taken before it goes: they are found as its descendants).
    const sessions = connectionPids();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    for (const pid of sessions) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const stop = async () => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };
  t.teardown(stop);
  try {
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    user: userInfo().username,
    dir,
    identityFile: clientKey,
    knownHosts,
    hostPublicKey,
    hostFingerprint: fingerprint(`${hostKey}.pub`),
    log,
    get pid() {
      return child.pid!;
    },
    connectionPids,
    halt,
    async restart() {
      await halt();
      await launch();
    },
    makeKey(name: string) {
      const file = join(dir, name);
      keygen(file, name);
      return { identityFile: file, publicKey: readFileSync(`${file}.pub`, 'utf8').trim() };
    },
    stop,
  };
}

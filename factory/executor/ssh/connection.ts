// One authenticated SSH connection (ssh2): strict host key check during key exchange, key or
// ssh-agent authentication, keepalive so a dead peer is noticed within seconds, commands run
// from argv (every word quoted), files written over SFTP. Emits 'lost' once when it goes away.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig } from 'ssh2';
import { abortError, withDeadline } from '../../../shared/sleep.js';
import { destinationOf } from './destination.js';
import { SshError } from './errors.js';
import {
  hostKeyAlgorithmsFor,
  knownHostsName,
  verifyHostKey,
  type HostKeyPolicy,
  type HostKeyVerdict,
} from './known-hosts.js';
import { describeCommand, shellCommand } from './quote.js';

const { Client, utils } = ssh2;

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  identityFile?: string | undefined;
  hostKey: HostKeyPolicy;
  /** ssh-agent socket; defaults to $SSH_AUTH_SOCK. */
  agentSocket?: string | undefined;
}

export interface SshTimings {
  /** Keepalive probe interval; with keepaliveCountMax, bounds how long a dead peer goes unnoticed. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** TCP connect + SSH handshake + authentication. */
  readyTimeoutMs: number;
}

/** A dead connection is noticed after at most interval × (countMax + 1) ≈ 8 s. */
export const DEFAULT_TIMINGS: SshTimings = { keepaliveIntervalMs: 2000, keepaliveCountMax: 3, readyTimeoutMs: 10_000 };

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed. */
  stdin?: string | Buffer;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

function hostKeyError(target: SshTarget, v: Extract<HostKeyVerdict, { ok: false }>): SshError {
  const dest = destinationOf(target);
  const scan = `ssh-keyscan -p ${target.port} -t ${v.keyType.replace(/^ssh-/, '')} ${target.host}`;
  const check = 'compare it with `ssh-keygen -l -f /etc/ssh/ssh_host_*_key.pub` run on the host itself';
  const what = `host key ${v.keyType} ${v.fingerprint}`;
  switch (v.reason) {
    case 'unknown':
      return new SshError(
        'host-key',
        dest,
        `refused ${what}: the host is not in ${v.source} (${v.detail}); nothing was sent`,
        {
          hint: `if that is the right host (${check}), add it: ${scan} >> ${v.source}; or pin host_key = "${v.fingerprint}"`,
        },
      );
    case 'mismatch':
      return new SshError(
        'host-key',
        dest,
        `refused ${what}: it does not match ${v.source} (${v.detail}); nothing was sent — the host was reinstalled, or someone is in the middle`,
        {
          hint:
            'knownHosts' in target.hostKey
              ? `${check}; if the new key is right, replace the old entry: ssh-keygen -R '${knownHostsName(target.host, target.port)}' -f ${target.hostKey.knownHosts}; ${scan} >> ${target.hostKey.knownHosts}`
              : `${check}; if the new key is right, set host_key = "${v.fingerprint}"`,
        },
      );
    case 'revoked':
      return new SshError('host-key', dest, `refused ${what}: ${v.source} ${v.detail}; nothing was sent`, {
        hint: 'the host must get a new host key; then add the new key to known_hosts',
      });
    case 'unreadable':
      return new SshError('config', dest, `cannot read known_hosts ${v.source}: ${v.detail}`, {
        hint: `create it (${scan} > ${v.source}, after checking the fingerprint) or set known_hosts / host_key in the testbed's agent table`,
      });
  }
}

function connectError(target: SshTarget, err: Error & { level?: string; code?: unknown }, auth: string): SshError {
  const dest = destinationOf(target);
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (err.level === 'client-authentication')
    return new SshError('auth', dest, `the server refused key authentication (tried ${auth})`, {
      cause: err,
      hint: `add the public key to ~${target.user}/.ssh/authorized_keys on ${target.host}, or fix identity_file / user`,
    });
  if (code === 'ECONNREFUSED')
    return new SshError('unreachable', dest, 'connection refused: nothing listens on that port', {
      cause: err,
      hint: 'check that sshd runs on the host and that host/port are right',
    });
  if (code === 'ENOTFOUND')
    return new SshError('unreachable', dest, `unknown host name ${target.host}`, {
      cause: err,
      hint: 'fix host in the testbed agent table',
      retryable: false,
    });
  if (err.level === 'client-timeout')
    return new SshError('unreachable', dest, `no SSH handshake within the timeout (${err.message})`, {
      cause: err,
      hint: 'check that the host is up and that the port is an SSH server',
    });
  return new SshError('unreachable', dest, `cannot connect: ${err.message}${code ? ` (${code})` : ''}`, {
    cause: err,
    hint: 'check that the host is up and reachable from the factory',
  });
}

/** OpenSSH allows 10 sessions per connection (MaxSessions); stay below it. */
const MAX_CHANNELS = 8;

export class SshConnection extends EventEmitter<{ lost: [SshError] }> {
  readonly destination: string;
  private lostError: SshError | undefined;
  private closing = false;
  private channels = 0;
  private readonly waiting: Array<() => void> = [];

  private constructor(
    private readonly client: InstanceType<typeof Client>,
    readonly target: SshTarget,
  ) {
    super();
    this.setMaxListeners(0); // each command in flight listens for 'lost'
    this.destination = destinationOf(target);
    let lastError: Error | undefined;
    client.on('error', (err) => {
      lastError = err;
    });
    client.on('close', () => {
      const why = this.closing
        ? 'closed by mvm'
        : lastError?.message === 'Keepalive timeout'
          ? 'no answer to keepalive probes'
          : lastError
            ? lastError.message
            : 'closed by the peer';
      this.lostError = new SshError('lost', this.destination, `connection lost: ${why}`, { cause: lastError });
      this.emit('lost', this.lostError);
    });
  }

  /** Connects and authenticates; rejects with an SshError saying why not. */
  static connect(
    target: SshTarget,
    timings: SshTimings = DEFAULT_TIMINGS,
    signal?: AbortSignal,
  ): Promise<SshConnection> {
    const dest = destinationOf(target);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let privateKey: Buffer | undefined;
    if (target.identityFile !== undefined) {
      try {
        privateKey = readFileSync(target.identityFile);
        const parsed = utils.parseKey(privateKey);
        if (parsed instanceof Error)
          return Promise.reject(
            new SshError('config', dest, `identity_file ${target.identityFile} cannot be used: ${parsed.message}`, {
              hint: 'mvm reads only unencrypted private keys; keep a passphrase-protected key in an ssh-agent (SSH_AUTH_SOCK) and remove identity_file',
            }),
          );
      } catch (err) {
        return Promise.reject(
          new SshError('config', dest, `cannot read identity_file ${target.identityFile}: ${(err as Error).message}`, {
            cause: err,
            hint: 'fix identity_file in the testbed agent table, or remove it to use ssh-agent',
          }),
        );
      }
    }
    const agent = target.agentSocket ?? process.env.SSH_AUTH_SOCK;
    if (privateKey === undefined && !agent)
      return Promise.reject(
        new SshError(
          'config',
          dest,
          'no key to authenticate with: identity_file is not set and no ssh-agent runs (SSH_AUTH_SOCK)',
          {
            hint: 'set identity_file in the testbed agent table, or start the factory with SSH_AUTH_SOCK pointing at an ssh-agent',
          },
        ),
      );
    const auth = [target.identityFile && `identity_file ${target.identityFile}`, agent && `ssh-agent ${agent}`]
      .filter(Boolean)
      .join(', ');

    const client = new Client();
    // errors after the outcome is settled (a late handshake timeout, say) must not crash mvm
    client.on('error', () => {});
    let verdict: HostKeyVerdict | undefined;
    const algorithms = hostKeyAlgorithmsFor(target.hostKey, target.host, target.port);
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey,
      agent: agent || undefined,
      readyTimeout: timings.readyTimeoutMs,
      keepaliveInterval: timings.keepaliveIntervalMs,
      keepaliveCountMax: timings.keepaliveCountMax,
      hostVerifier: (key: Buffer) => {
        verdict = verifyHostKey(target.hostKey, target.host, target.port, key);
        return verdict.ok;
      },
      ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        client.removeListener('ready', onReady);
        client.removeListener('error', onError);
        client.removeListener('close', onClose);
        if (err) {
          client.destroy();
          reject(err);
        } else resolve(new SshConnection(client, target));
      };
      const onReady = () => finish(undefined);
      const onError = (err: Error & { level?: string }) => {
        if (verdict && !verdict.ok) finish(hostKeyError(target, verdict));
        else finish(connectError(target, err, auth));
      };
      const onClose = () => {
        if (verdict && !verdict.ok) finish(hostKeyError(target, verdict));
        else
          finish(
            new SshError('unreachable', dest, 'the connection closed during the handshake', {
              hint: 'check the server log on the host',
            }),
          );
      };
      const onAbort = () => finish(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      client.on('ready', onReady);
      client.on('error', onError);
      client.on('close', onClose);
      client.connect(config);
    });
  }

  get alive(): boolean {
    return this.lostError === undefined;
  }

  /** Runs `fn` once a channel slot is free, so that many callers never exceed MaxSessions. */
  private async withChannel<T>(fn: () => Promise<T>): Promise<T> {
    if (this.channels < MAX_CHANNELS) this.channels++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over
    try {
      if (this.lostError) throw this.lostError;
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.channels--;
    }
  }

  /** Runs argv on the remote host (each word shell-quoted) and collects its output. */
  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.lostError) return Promise.reject(this.lostError);
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    const command = shellCommand(argv);
    return this.withChannel(() => this.execNow(argv, command, opts));
  }

  private execNow(argv: readonly string[], command: string, opts: ExecOptions): Promise<ExecResult> {
    // A timeout is a deadline on the signal: it rejects with a TimeoutError (shared/errors.ts).
    const signal =
      opts.timeoutMs !== undefined
        ? withDeadline(opts.timeoutMs, `ssh ${this.destination}: \`${describeCommand(argv)}\``, opts.signal)
        : opts.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      let channel: ClientChannel | undefined;
      let settled = false;
      const finish = (err: Error | undefined, result?: ExecResult) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        this.removeListener('lost', onLost);
        if (err) {
          channel?.close();
          reject(err);
        } else resolve(result!);
      };
      const onAbort = () => finish(abortError(signal));
      const onLost = (err: SshError) => finish(err);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.on('lost', onLost);
      this.client.exec(command, (err, ch) => {
        if (err)
          return finish(
            this.lostError ??
              new SshError('remote', this.destination, `cannot start a remote command: ${err.message}`, {
                cause: err,
                retryable: true,
              }),
          );
        channel = ch;
        if (settled) return void ch.close();
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        let sig: string | undefined;
        ch.on('data', (d: Buffer) => out.push(d));
        ch.stderr.on('data', (d: Buffer) => errOut.push(d));
        ch.on('exit', (c: number | null, s?: string) => {
          code = c;
          sig = s;
        });
        ch.on('close', () =>
          finish(undefined, {
            code,
            signal: sig,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
          }),
        );
        ch.end(opts.stdin);
      });
    });
  }

  /** Writes a file on the remote host over SFTP and sets its mode exactly (whatever the umask). */
  writeFile(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
    if (this.lostError) return Promise.reject(this.lostError);
    return this.withChannel(() => this.writeFileNow(path, data, mode));
  }

  private writeFileNow(path: string, data: string | Buffer, mode: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (what: string, err: Error) =>
        reject(
          new SshError('remote', this.destination, `cannot write ${path}: ${what}: ${err.message}`, {
            cause: err,
            hint: 'check that the directory exists and that the user may write there',
          }),
        );
      this.client.sftp((err, sftp) => {
        if (err) return fail('no SFTP subsystem', err);
        sftp.writeFile(path, data, { mode }, (err) => {
          if (err) {
            sftp.end();
            return fail('write', err);
          }
          sftp.chmod(path, mode, (err) => {
            sftp.end();
            if (err) return fail('chmod', err);
            resolve();
          });
        });
      });
    });
  }

  /** Closes the connection; resolves once it is closed. */
  close(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      this.closing = true;
      this.once('lost', () => resolve());
      this.client.end();
    });
  }
}

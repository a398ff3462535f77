// Connections against a real OpenSSH server on 127.0.0.1: commands and SFTP, reuse, ssh-agent,
// strict host keys (unknown, changed, pinned), refused keys, unreachable hosts and backoff.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { SshConnection, type SshTarget } from '../../factory/executor/ssh/connection.js';
import { SshError } from '../../factory/executor/ssh/errors.js';
import { SshPool } from '../../factory/executor/ssh/pool.js';
import { sshdForFile, sshTargetOf } from '../helpers/sshd.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { NASTY } from './nasty.js';

const sshd = sshdForFile(t, 'the SSH connection tests');
if (sshd) {
  const target = (over: Partial<SshTarget> = {}): SshTarget => sshTargetOf(sshd, over);
  const accepted = () => sshd.log.filter((l) => /Accepted publickey/.test(l)).length;

  t.test('connect, run commands from argv, write files over SFTP, reuse the connection', async (t) => {
    const pool = new SshPool();
    t.teardown(() => pool.close());
    const host = pool.host(target());
    const conn = await host.get();
    t.equal(await host.get(), conn, 'the same connection is handed out again');
    t.equal(pool.host(target()), host, 'one SshHost per destination');

    const r = await conn.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    t.same(r, { code: 3, signal: undefined, stdout: 'out\n', stderr: 'err\n' });

    const echo = await conn.exec(['printf', '%s\\0', ...NASTY]);
    t.same(echo.stdout.split('\0').slice(0, -1), NASTY, 'every nasty word arrives intact on the remote side');
    const cat = await conn.exec(['cat'], { stdin: 'from stdin\n' });
    t.equal(cat.stdout, 'from stdin\n');

    const dir = tempDir(t);
    const file = join(dir, 'secret');
    await conn.writeFile(file, 'payload', 0o600);
    t.equal(readFileSync(file, 'utf8'), 'payload');
    t.equal(statSync(file).mode & 0o777, 0o600);
    await t.rejects(conn.writeFile(join(dir, 'no/such/dir/f'), 'x'), { failure: 'remote', message: /cannot write/ });

    const many = await Promise.all(
      Array.from({ length: 25 }, (_, i) => conn.exec(['sh', '-c', 'sleep 0.2; echo "$0"', String(i)])),
    );
    t.same(
      many.map((r) => r.stdout),
      Array.from({ length: 25 }, (_, i) => `${i}\n`),
      'more commands at once than sshd allows sessions: queued, all run',
    );

    const ac = new AbortController();
    const slow = conn.exec(['sleep', '30'], { signal: ac.signal });
    ac.abort();
    await t.rejects(slow, { code: 'ABORTED' }, 'exec is abortable');
    t.equal((await conn.exec(['true'])).code, 0, 'the connection survives an aborted command');
  });

  t.test('ssh-agent authentication (SSH_AUTH_SOCK)', async (t) => {
    const dir = tempDir(t);
    const sock = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    t.teardown(() => agent.kill('SIGTERM'));
    await waitFor(() => existsSync(sock), 'ssh-agent socket', 10_000);
    const add = spawnSync('ssh-add', [sshd.identityFile], {
      env: { ...process.env, SSH_AUTH_SOCK: sock },
      encoding: 'utf8',
    });
    t.equal(add.status, 0, `ssh-add: ${add.stderr}`);
    const conn = await SshConnection.connect(target({ identityFile: undefined, agentSocket: sock }));
    t.teardown(() => conn.close());
    t.equal((await conn.exec(['echo', 'via agent'])).stdout, 'via agent\n');
  });

  t.test('an unknown or changed host key is refused before anything is sent', async (t) => {
    const dir = tempDir(t);
    const marker = join(dir, 'marker');
    const before = accepted();

    const empty = join(dir, 'known_hosts_empty');
    writeFileSync(empty, '# nothing\n');
    const unknown = await SshConnection.connect(target({ hostKey: { knownHosts: empty } })).then(
      () => t.fail('connected to an unknown host'),
      (e: unknown) => e,
    );
    t.type(unknown, SshError);
    const u = unknown as SshError;
    t.equal(u.failure, 'host-key');
    t.equal(u.retryable, false, 'not retried: it needs a person');
    t.match(u.message, `ssh ${sshd.user}@127.0.0.1:${sshd.port}`, 'says which host');
    t.match(u.message, sshd.hostFingerprint, 'says which key was presented');
    t.match(u.message, empty, 'says which file was checked');
    t.match(u.hint, /ssh-keyscan -p \d+ -t ed25519 127\.0\.0\.1/, 'says how to fix it');
    t.comment(u.message + '\n  hint: ' + u.hint);

    const wrongKey = sshd.makeKey('impostor').publicKey.split(' ').slice(0, 2).join(' ');
    const changed = join(dir, 'known_hosts_changed');
    writeFileSync(changed, `[127.0.0.1]:${sshd.port} ${wrongKey}\n`);
    const pool = new SshPool();
    t.teardown(() => pool.close());
    const host = pool.host(target({ hostKey: { knownHosts: changed } }));
    const e = (await host.get().catch((e: unknown) => e)) as SshError;
    t.match(e, { failure: 'host-key', message: /does not match/ });
    t.match(e.message, sshd.hostFingerprint);
    t.match(e.message, /line 1: ssh-ed25519 SHA256:/, 'names the key the file expects');
    t.comment(e.message + '\n  hint: ' + e.hint);
    // the pool does not retry a host key failure in a tight loop
    await t.rejects(host.get(), { failure: 'host-key', message: /next attempt in \d+ s/ });

    const revoked = join(dir, 'known_hosts_revoked');
    writeFileSync(revoked, `@revoked * ${sshd.hostPublicKey}\n[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    await t.rejects(SshConnection.connect(target({ hostKey: { knownHosts: revoked } })), {
      failure: 'host-key',
      message: /@revoked/,
    });

    await t.rejects(SshConnection.connect(target({ hostKey: { fingerprint: 'SHA256:' + 'x'.repeat(43) } })), {
      failure: 'host-key',
      message: /pinned fingerprint/,
    });
    const pinned = await SshConnection.connect(target({ hostKey: { fingerprint: sshd.hostFingerprint } }));
    await pinned.close();

    t.equal(accepted() - before, 1, 'the server authenticated only the pinned-fingerprint connection');
    t.notOk(existsSync(marker), 'no command ran');
  });

  t.test('a key the server does not know is refused with a clear reason', async (t) => {
    const stranger = sshd.makeKey('stranger');
    const e = (await SshConnection.connect(target({ identityFile: stranger.identityFile })).catch(
      (e: unknown) => e,
    )) as SshError;
    t.match(e, { failure: 'auth', retryable: false, message: /refused key authentication \(tried identity_file / });
    t.match(e.hint, /authorized_keys/);
    await t.rejects(SshConnection.connect(target({ identityFile: '/nonexistent/key' })), {
      failure: 'config',
      message: /cannot read identity_file/,
    });
    const encrypted = join(sshd.dir, 'encrypted_key');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret passphrase', '-f', encrypted]);
    const enc = (await SshConnection.connect(target({ identityFile: encrypted })).catch((e: unknown) => e)) as SshError;
    t.match(enc, { failure: 'config', message: /identity_file .*encrypted_key cannot be used/ });
    t.match(enc.hint, /ssh-agent/);
    await t.rejects(SshConnection.connect(target({ identityFile: undefined, agentSocket: '' })), {
      failure: 'config',
      message: /no key to authenticate/,
    });
  });

  t.test('an unreachable host fails quickly with its reason, and backs off', async (t) => {
    // a port nobody listens on: find one, then close it
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closedPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));

    const t0 = Date.now();
    const refused = (await SshConnection.connect(target({ port: closedPort })).catch((e: unknown) => e)) as SshError;
    t.comment(`connection refused reported after ${Date.now() - t0} ms`);
    t.match(refused, { failure: 'unreachable', retryable: true, message: /connection refused/ });

    // a server that accepts TCP but never speaks SSH
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    t.teardown(() => {
      for (const s of sockets) s.destroy();
      silent.close();
    });
    const silentPort = (silent.address() as { port: number }).port;
    const ac = new AbortController();
    const aborted = SshConnection.connect(target({ port: silentPort }), undefined, ac.signal);
    await waitFor(() => sockets.length === 1, 'the connection attempt', 5000);
    ac.abort();
    await t.rejects(aborted, { code: 'ABORTED' }, 'connecting is abortable');
    for (const s of sockets.splice(0)) s.destroy();

    let now = 1_000_000;
    const pool = new SshPool({
      timings: { readyTimeoutMs: 1500 },
      backoffBaseMs: 4000,
      now: () => now,
      random: () => 1,
    });
    t.teardown(() => pool.close());
    const host = pool.host(target({ port: silentPort }));
    const t1 = Date.now();
    const mute = (await host.get().catch((e: unknown) => e)) as SshError;
    t.comment(`no greeting reported after ${Date.now() - t1} ms (ready timeout 1500 ms)`);
    t.match(mute, { failure: 'unreachable', message: /no SSH handshake/ });
    t.equal(sockets.length, 1);
    // asking again before the backoff has passed fails at once, without a new attempt
    await t.rejects(host.get(), { failure: 'unreachable', message: /next attempt in 4 s/ });
    t.equal(sockets.length, 1, 'no new connection attempt during the backoff');
    now += 4001;
    await t.rejects(host.get(), { failure: 'unreachable', message: /no SSH handshake/ });
    t.equal(sockets.length, 2, 'a new attempt once the backoff has passed');
    await t.rejects(host.get(), { message: /next attempt in 8 s/ }, 'the backoff grows');
  });
}

// Pure pieces of the SSH layer: shell quoting (checked against a real local sh), known_hosts
// parsing and matching, version compatibility, the agent's argv.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellCommand, shellQuote } from '../../factory/executor/ssh/quote.js';
import {
  entryMatchesHost,
  fingerprintOf,
  hostKeyAlgorithmsFor,
  keyTypeOf,
  parseKnownHosts,
  verifyHostKey,
} from '../../factory/executor/ssh/known-hosts.js';
import { agentArgv, versionCompatible } from '../../factory/executor/ssh/remote-agent.js';
import { tempDir } from '../helpers/tmp.js';
import { NASTY } from './nasty.js';

/** An ssh public key blob for an ed25519 key, as the server would present it. */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

t.test('shellQuote round-trips every nasty word through a real sh', async (t) => {
  for (const word of NASTY) {
    const r = spawnSync('sh', ['-c', `printf '%s' ${shellQuote(word)}`], { encoding: 'utf8' });
    t.equal(r.stdout, word, `round-trip ${JSON.stringify(word)}`);
  }
  const argv = ['printf', '%s\\0', ...NASTY];
  const r = spawnSync('sh', ['-c', shellCommand(argv)], { encoding: 'utf8' });
  t.same(r.stdout.split('\0').slice(0, -1), NASTY, 'a whole argv arrives word for word');
  t.equal(shellQuote('plain/path-1.2'), 'plain/path-1.2', 'plain words stay readable');
  t.equal(shellQuote("it's"), `'it'\\''s'`);
  t.equal(shellQuote('A=b'), `'A=b'`, 'a word with = is quoted (would be an assignment first)');
  t.throws(() => shellQuote('a\0b'), /NUL/);
  t.throws(() => shellCommand([]));
});

t.test('known_hosts: plain, [host]:port, hashed, wildcard, negation, revoked, mismatch, unknown', async (t) => {
  const dir = tempDir(t);
  const key = ed25519Blob();
  const other = ed25519Blob();
  const b64 = (b: Buffer) => b.toString('base64');
  const salt = randomBytes(20);
  const hashed = (name: string) =>
    `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

  t.ok(entryMatchesHost('bench.example,10.0.0.1', 'bench.example', 22));
  t.notOk(entryMatchesHost('bench.example', 'bench.example', 2222), 'a non-22 port needs the [host]:port form');
  t.ok(entryMatchesHost('[bench.example]:2222', 'bench.example', 2222));
  t.ok(entryMatchesHost('*.example', 'bench.example', 22));
  t.notOk(entryMatchesHost('*.example,!bench.example', 'bench.example', 22), 'a negated pattern wins');
  t.ok(entryMatchesHost(hashed('[127.0.0.1]:2200'), '127.0.0.1', 2200));
  t.notOk(entryMatchesHost(hashed('[127.0.0.1]:2200'), '127.0.0.1', 2201));

  const file = join(dir, 'known_hosts');
  writeFileSync(
    file,
    [
      '# comment',
      `${hashed('[127.0.0.1]:2200')} ssh-ed25519 ${b64(key)}`,
      `[127.0.0.2]:2200 ssh-ed25519 ${b64(other)}`,
      `@revoked [127.0.0.3]:2200 ssh-ed25519 ${b64(key)}`,
      `[127.0.0.3]:2200 ssh-ed25519 ${b64(key)}`,
      'garbage line',
      '',
    ].join('\n'),
  );
  const parsed = parseKnownHosts(`garbage\n@bogus h t AAAA\nh ssh-ed25519 !!!\n`, 'x');
  t.equal(parsed.entries.length, 0);
  t.equal(parsed.skipped.length, 3, 'bad lines are skipped and reported');

  const ok = verifyHostKey({ knownHosts: file }, '127.0.0.1', 2200, key);
  t.ok(ok.ok, 'hashed entry accepted');
  t.equal(ok.fingerprint, fingerprintOf(key));
  t.equal(keyTypeOf(key), 'ssh-ed25519');

  const mismatch = verifyHostKey({ knownHosts: file }, '127.0.0.2', 2200, key);
  t.match(mismatch, { ok: false, reason: 'mismatch' });
  if (!mismatch.ok) t.match(mismatch.detail, fingerprintOf(other), 'names the key the file expects');

  t.match(
    verifyHostKey({ knownHosts: file }, '127.0.0.3', 2200, key),
    { ok: false, reason: 'revoked' },
    '@revoked wins over a plain entry',
  );
  t.match(verifyHostKey({ knownHosts: file }, '127.0.0.9', 2200, key), { ok: false, reason: 'unknown' });
  t.match(verifyHostKey({ knownHosts: join(dir, 'missing') }, '127.0.0.1', 2200, key), {
    ok: false,
    reason: 'unreadable',
  });

  t.match(verifyHostKey({ fingerprint: fingerprintOf(key) }, 'h', 22, key), { ok: true });
  t.match(verifyHostKey({ fingerprint: fingerprintOf(other) }, 'h', 22, key), { ok: false, reason: 'mismatch' });

  t.same(hostKeyAlgorithmsFor({ knownHosts: file }, '127.0.0.1', 2200), ['ssh-ed25519']);
  t.equal(hostKeyAlgorithmsFor({ knownHosts: file }, '127.0.0.9', 2200), undefined);
});

t.test('versions: same major, and same minor while 0.x', async (t) => {
  t.ok(versionCompatible('0.1.7', '0.1.0'));
  t.notOk(versionCompatible('0.2.0', '0.1.0'));
  t.ok(versionCompatible('1.4.0', '1.0.2'));
  t.notOk(versionCompatible('2.0.0', '1.0.0'));
  t.notOk(versionCompatible('garbage', '1.0.0'));
});

t.test('the agent argv never carries the bootstrap string', async (t) => {
  const argv = agentArgv({
    remoteCommand: ['mvm'],
    workdir: '/w/i1',
    url: 'http://127.0.0.1:9300',
    testbedFile: '/w/i1/testbed.json',
  });
  t.same(argv, [
    'mvm',
    'agent',
    'run',
    '--url',
    'http://127.0.0.1:9300',
    '--workdir',
    '/w/i1',
    '--testbed',
    '/w/i1/testbed.json',
    '--bootstrap-file',
    '/w/i1/bootstrap',
  ]);
});

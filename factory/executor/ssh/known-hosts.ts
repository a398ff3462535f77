// Strict host key verification: OpenSSH known_hosts files (plain and hashed host names,
// `[host]:port`, wildcards and negations, @revoked) or a pinned `SHA256:` fingerprint.
// There is deliberately no way to accept an unknown key.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** `SHA256:<base64, no padding>` of an SSH public key blob, as `ssh-keygen -l` prints it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ssh-rsa`, …). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return len > 0 && len < 64 && keyBlob.length >= 4 + len ? keyBlob.subarray(4, 4 + len).toString('latin1') : 'unknown';
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export interface KnownHostsEntry {
  line: number;
  marker: 'revoked' | 'cert-authority' | undefined;
  /** Comma-separated patterns, or one hashed name (`|1|salt|hash`). */
  hosts: string;
  keyType: string;
  key: Buffer;
}

export interface KnownHostsFile {
  file: string;
  entries: KnownHostsEntry[];
  /** Lines that could not be parsed (ignored, as OpenSSH does), for the log. */
  skipped: Array<{ line: number; reason: string }>;
}

export function parseKnownHosts(text: string, file: string): KnownHostsFile {
  const entries: KnownHostsEntry[] = [];
  const skipped: KnownHostsFile['skipped'] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return void skipped.push({ line, reason: `unknown marker ${m}` });
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) return void skipped.push({ line, reason: 'expected: hosts key-type base64-key' });
    if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return void skipped.push({ line, reason: 'the key is not base64' });
    entries.push({ line, marker, hosts, keyType, key: Buffer.from(b64, 'base64') });
  });
  return { file, entries, skipped };
}

export function readKnownHosts(file: string): KnownHostsFile {
  return parseKnownHosts(readFileSync(file, 'utf8'), file);
}

/** OpenSSH wildcard match: `*` any run, `?` one character; case-insensitive like host names. */
function wildcardMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '.*')
        .replaceAll('?', '.') +
      '$',
    'i',
  );
  return re.test(name);
}

function hashedMatch(hashed: string, name: string): boolean {
  const parts = hashed.split('|');
  // |1|salt|hash  → ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = Buffer.from(parts[3]!, 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return got.length === want.length && got.equals(want);
}

/** Whether an entry's host field names `host` on `port`. */
export function entryMatchesHost(hosts: string, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (hosts.startsWith('|')) return hashedMatch(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    if (wildcardMatch(p, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** How a host's key is checked: a known_hosts file, or one pinned fingerprint. */
export type HostKeyPolicy = { knownHosts: string } | { fingerprint: string };

export type HostKeyVerdict =
  | { ok: true; fingerprint: string; keyType: string; source: string }
  | {
      ok: false;
      reason: 'unknown' | 'mismatch' | 'revoked' | 'unreadable';
      fingerprint: string;
      keyType: string;
      /** What was checked: the known_hosts file, or `pinned fingerprint SHA256:…`. */
      source: string;
      detail: string;
    };

/** Decides whether `keyBlob`, presented by `host:port`, is the key this policy expects. */
export function verifyHostKey(policy: HostKeyPolicy, host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const fingerprint = fingerprintOf(keyBlob);
  const keyType = keyTypeOf(keyBlob);
  if ('fingerprint' in policy) {
    const source = `pinned fingerprint ${policy.fingerprint}`;
    if (policy.fingerprint === fingerprint) return { ok: true, fingerprint, keyType, source };
    return {
      ok: false,
      reason: 'mismatch',
      fingerprint,
      keyType,
      source,
      detail: `the pinned fingerprint is ${policy.fingerprint}`,
    };
  }
  const source = policy.knownHosts;
  let file: KnownHostsFile;
  try {
    file = readKnownHosts(policy.knownHosts);
  } catch (err) {
    return { ok: false, reason: 'unreadable', fingerprint, keyType, source, detail: (err as Error).message };
  }
  const forHost = file.entries.filter((e) => entryMatchesHost(e.hosts, host, port));
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key.equals(keyBlob));
  if (revoked)
    return {
      ok: false,
      reason: 'revoked',
      fingerprint,
      keyType,
      source,
      detail: `line ${revoked.line} marks this key @revoked`,
    };
  const plain = forHost.filter((e) => e.marker === undefined);
  const match = plain.find((e) => e.key.equals(keyBlob));
  if (match) return { ok: true, fingerprint, keyType, source: `${source}:${match.line}` };
  if (plain.length === 0) {
    return {
      ok: false,
      reason: 'unknown',
      fingerprint,
      keyType,
      source,
      detail: `no entry for ${knownHostsName(host, port)}`,
    };
  }
  const listed = plain.map((e) => `line ${e.line}: ${e.keyType} ${fingerprintOf(e.key)}`).join('; ');
  return { ok: false, reason: 'mismatch', fingerprint, keyType, source, detail: `the file lists ${listed}` };
}

/**
 * The host key algorithms to offer, ordered like the keys known for this host, so that a server
 * with several host keys presents one we can check (what OpenSSH's client does). Undefined:
 * keep the library default.
 */
export function hostKeyAlgorithmsFor(policy: HostKeyPolicy, host: string, port: number): string[] | undefined {
  if (!('knownHosts' in policy)) return undefined;
  let file: KnownHostsFile;
  try {
    file = readKnownHosts(policy.knownHosts);
  } catch {
    return undefined;
  }
  const algos: string[] = [];
  for (const e of file.entries) {
    if (e.marker !== undefined || !entryMatchesHost(e.hosts, host, port)) continue;
    const names = keyTypeOf(e.key) === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyTypeOf(e.key)];
    for (const n of names) if (!algos.includes(n)) algos.push(n);
  }
  return algos.length > 0 ? algos : undefined;
}

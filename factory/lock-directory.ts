// Mirrors the lock table into the lock directory (shared/testbed-locks.ts) so `mvm runner` can
// refuse to touch a testbed someone else holds, and journals the runners that overrode it. Each
// lock holder's credential is an HMAC of its holder id under a key kept beside the database
// (0600), so it survives restarts without being stored, and the files carry only its hash.
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import {
  credentialHash,
  overridesDir,
  writeLockFile,
  type LockOverride,
  type TestbedLockFile,
} from '../shared/testbed-locks.js';
import type { TestbedConfig } from './config/types.js';
import type { FactoryStore } from './store.js';
import { allLocks, describeLock } from './locks.js';

function loadKey(file: string): Buffer {
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  } catch {
    const key = randomBytes(32);
    writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  }
}

export class LockDirectory {
  private readonly key: Buffer;
  /** testbed → the JSON last written, so a pass rewrites only what changed. */
  private readonly written = new Map<string, string>();
  private warned = false;

  constructor(
    readonly dir: string,
    keyFile: string,
    private readonly testbeds: readonly TestbedConfig[],
    private readonly store: FactoryStore,
    private readonly log: Logger,
  ) {
    this.key = loadKey(keyFile);
  }

  /** What a lock holder presents to the runner (MVM_LOCK_CREDENTIAL, or the description's lock_credential). */
  credential(holder: string): string {
    return createHmac('sha256', this.key).update(`testbed-lock:${holder}`).digest('base64url');
  }

  /** Writes the files of testbeds whose holder changed and journals override notes. Never throws. */
  sync(): void {
    try {
      this.prepare();
      const held = new Map(allLocks(this.store.opened.db).map((l) => [l.testbed, l]));
      for (const tb of this.testbeds) {
        const l = held.get(tb.name);
        const f: TestbedLockFile = {
          version: 1,
          testbed: tb.name,
          held: l
            ? {
                kind: l.kind,
                owner: l.owner,
                description: describeLock(l),
                since: new Date(l.acquiredAt).toISOString(),
                expires_at: l.expiresAt === null ? null : new Date(l.expiresAt).toISOString(),
                credential_sha256: credentialHash(this.credential(l.holder)),
              }
            : null,
          devices: tb.devices.map((d) => ({ name: d.name, driver: d.driver, address: d.address ?? null })),
          pid: process.pid,
        };
        const text = JSON.stringify(f);
        if (this.written.get(tb.name) === text) continue;
        writeLockFile(this.dir, f);
        this.written.set(tb.name, text);
      }
      this.journalOverrides();
      this.warned = false;
    } catch (err) {
      // Runners then see a stale or missing file; say so once per failure streak, not every pass.
      if (!this.warned)
        this.log.error(
          { err: describeError(err), dir: this.dir },
          'cannot update the lock directory: runners cannot see who holds the testbeds',
        );
      this.warned = true;
    }
  }

  private prepared = false;

  private prepare(): void {
    if (this.prepared) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    mkdirSync(overridesDir(this.dir), { recursive: true });
    // Anyone's runner may leave a note; the sticky bit keeps them from removing others'.
    chmodSync(overridesDir(this.dir), 0o1777);
    this.prepared = true;
  }

  private journalOverrides(): void {
    const dir = overridesDir(this.dir);
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      const file = join(dir, name);
      try {
        const o = JSON.parse(readFileSync(file, 'utf8')) as LockOverride;
        if (this.testbeds.some((t) => t.name === o.testbed)) {
          const message = `${o.user} ran \`mvm runner ${o.command}\` with --ignore-lock (pid ${o.pid}, ${o.at}) while it was ${o.held}`;
          this.store.journal('lock-ignored', message, { testbed: o.testbed });
          this.log.warn({ testbed: o.testbed, user: o.user, command: o.command }, 'a runner ignored the testbed lock');
        }
      } catch {
        // half-written or not a note: dropped below
      }
      rmSync(file, { force: true });
    }
  }
}

// Mirrors the lock table into the lock directory (shared/testbed-locks.ts) so `mvm runner` can
// refuse to touch a testbed someone else holds, and journals the runners that overrode it. Each
// lock holder's credential is an HMAC of its holder id under a key kept beside the database
// (0600), so it survives restarts without being stored, and the files carry only its hash. An SSH
// testbed's file is also kept on its host (the executor's publishLock), where its runners look.
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
import type { Executor } from './executor/types.js';
import { allLocks, describeLock, lockOf } from './locks.js';
import type { LockRow } from './db/schema.js';

/** How often an SSH testbed's host copy is rewritten though unchanged (and its override notes collected). */
const REMOTE_REFRESH_MS = 15_000;

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
    /** The executor of a testbed whose runners run on another host (publishLock), else undefined. */
    private readonly remoteOf: (testbed: string) => Executor | undefined = () => undefined,
  ) {
    this.key = loadKey(keyFile);
  }

  /** testbed → what its host's copy holds, and when it was written. */
  private readonly published = new Map<string, { text: string; at: number }>();
  /** testbed → the publication in progress (one at a time per testbed). */
  private readonly publishing = new Map<string, Promise<void>>();
  private readonly remoteWarned = new Set<string>();

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
        const f = this.fileOf(tb, held.get(tb.name));
        if (this.remoteOf(tb.name)?.publishLock) void this.publish(tb.name);
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

  private fileOf(tb: TestbedConfig, l: LockRow | undefined): TestbedLockFile {
    return {
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
  }

  /**
   * Brings the host's copy of an SSH testbed's lock file up to date (from the lock table now) and
   * journals the override notes found there. Awaited before a runner or agent starts there, so it
   * never reads a former holder's file; never throws (a failure is logged, retried next pass).
   */
  async publish(testbed: string, signal?: AbortSignal): Promise<void> {
    const ex = this.remoteOf(testbed);
    const tb = this.testbeds.find((t) => t.name === testbed);
    if (!ex?.publishLock || !tb) return;
    const before = this.publishing.get(testbed);
    if (before) await before;
    const f = this.fileOf(tb, lockOf(this.store.opened.db, testbed));
    const text = JSON.stringify(f);
    const last = this.published.get(testbed);
    if (last && last.text === text && Date.now() - last.at < REMOTE_REFRESH_MS) return;
    const p = ex
      .publishLock(f, signal)
      .then((notes) => {
        this.published.set(testbed, { text, at: Date.now() });
        this.remoteWarned.delete(testbed);
        for (const o of notes) this.journalOverride(o);
      })
      .catch((err) => {
        if (!this.remoteWarned.has(testbed))
          this.log.warn(
            { testbed, err: describeError(err) },
            "cannot update the lock file on the testbed's host: its runners cannot see who holds it",
          );
        this.remoteWarned.add(testbed);
      })
      .finally(() => {
        if (this.publishing.get(testbed) === p) this.publishing.delete(testbed);
      });
    this.publishing.set(testbed, p);
    await p;
  }

  private journalOverride(o: LockOverride): void {
    if (!this.testbeds.some((t) => t.name === o.testbed)) return;
    const message = `${o.user} ran \`mvm runner ${o.command}\` with --ignore-lock (pid ${o.pid}, ${o.at}) while it was ${o.held}`;
    this.store.journal('lock-ignored', message, { testbed: o.testbed });
    this.log.warn({ testbed: o.testbed, user: o.user, command: o.command }, 'a runner ignored the testbed lock');
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
        this.journalOverride(JSON.parse(readFileSync(file, 'utf8')) as LockOverride);
      } catch {
        // half-written or not a note: dropped below
      }
      rmSync(file, { force: true });
    }
  }
}

// The device hold: a runner that changes a testbed's devices (flash, control, restore, test) holds
// the testbed for as long as it works, so two runners — a person's and a job's, or the factory's
// restore and an emergency `--ignore-lock` — never drive one device at once. The hold is an
// abstract Unix socket (Linux): binding its name is exclusive on the host, the kernel frees it
// when the holder exits however it ends (kill -9 included), and whoever finds it taken connects
// to it and is told who holds it. Its name is derived from the lock directory, so the runners
// and the factory that share one directory share the holds.
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { MvmError } from './errors.js';
import { sleep } from './sleep.js';

/** Who holds a testbed's devices, as the holder tells it. */
export interface HolderInfo {
  pid: number;
  user: string;
  /** The runner command: "flash", "control", "restore", "test". */
  command: string;
  testbed: string;
  since: string;
  /** On whose behalf: "job …", "reserved by alice …", "--ignore-lock". */
  on_behalf?: string;
  /**
   * The SHA-256 of the secret the holder hands its children (HOLD_ENV): a runner started under the
   * hold — a test script's `mvm runner control` inside `mvm runner test` — proves it with the
   * secret and works under its parent's hold instead of waiting for it. Others learn nothing.
   */
  child_key?: string;
}

/** The environment variable a holder sets for its children: `<hold name hash>:<secret>`. */
export const HOLD_ENV = 'MVM_DEVICE_HOLD';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface DeviceHold {
  readonly testbed: string;
  release(): Promise<void>;
}

/** The abstract socket name of a testbed's hold under lock directory `dir` (at most 107 bytes). */
export function holdName(dir: string, testbed: string): string {
  const h = createHash('sha256')
    .update(`${resolve(dir)}\n${testbed}`)
    .digest('hex')
    .slice(0, 32);
  return `\0mvm-testbed-hold/${h}`;
}

/** Describes a holder for a refusal: "runner pid 123 (bob: `mvm runner control`, since …, reserved by …)". */
export function describeHolder(h: HolderInfo | undefined): string {
  if (!h) return 'another process (it did not say who)';
  const behalf = h.on_behalf ? `, for ${h.on_behalf}` : '';
  return `runner pid ${h.pid} (${h.user}: \`mvm runner ${h.command}\` since ${h.since}${behalf})`;
}

function tryListen(name: string, info: HolderInfo): Promise<Server | undefined> {
  return new Promise((resolvePromise, reject) => {
    const body = JSON.stringify(info) + '\n';
    const server = createServer((sock) => {
      sock.on('error', () => {});
      sock.end(body);
    });
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') resolvePromise(undefined);
      else reject(err);
    });
    server.listen(name, () => {
      // The hold must not keep a runner alive once its work is done.
      server.unref();
      resolvePromise(server);
    });
  });
}

/**
 * Asks the holder who it is. Undefined when nobody holds it any more (the socket refused), and
 * `{ unknown: true }` when someone does but did not answer in time (a holder busy in a long
 * synchronous step answers late).
 */
export function whoHolds(
  dir: string,
  testbed: string,
  timeoutMs = 3000,
): Promise<{ holder?: HolderInfo; unknown?: true } | undefined> {
  return new Promise((resolvePromise) => {
    const sock = connect(holdName(dir, testbed));
    let text = '';
    const done = (v: { holder?: HolderInfo; unknown?: true } | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolvePromise(v);
    };
    const timer = setTimeout(() => done({ unknown: true }), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.on('end', () => {
      try {
        done({ holder: JSON.parse(text) as HolderInfo });
      } catch {
        done({ unknown: true });
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? undefined : { unknown: true }),
    );
  });
}

export interface HoldOptions {
  /** How long to wait for a holder to finish (default 0: refuse at once). */
  waitMs?: number;
  /** Told once per holder waited for. */
  onWait?: (holder: HolderInfo | undefined) => void;
  signal?: AbortSignal;
  /** How often a waiting runner tries again (default 250 ms). */
  pollMs?: number;
}

/** Takes the testbed's hold under `dir`; CONFLICT naming the holder when another process keeps it past the wait. */
export async function holdDevices(
  dir: string,
  info: HolderInfo,
  o: HoldOptions & { env?: NodeJS.ProcessEnv } = {},
): Promise<DeviceHold> {
  const env = o.env ?? process.env;
  const name = holdName(dir, info.testbed);
  const tag = sha256(name).slice(0, 16);
  const [inheritedTag, inheritedSecret] = (env[HOLD_ENV] ?? '').split(':');
  const deadline = Date.now() + (o.waitMs ?? 0);
  let told: string | undefined;
  for (;;) {
    const secret = randomBytes(16).toString('hex');
    const server = await tryListen(name, { ...info, child_key: sha256(secret) });
    if (server) {
      // Children (a test's script and the runners it starts) inherit the secret.
      env[HOLD_ENV] = `${tag}:${secret}`;
      return {
        testbed: info.testbed,
        release: () => new Promise<void>((r) => server.close(() => r())),
      };
    }
    const who = await whoHolds(dir, info.testbed);
    // Started under that very hold (by its holder, through its children): work under it.
    if (
      inheritedTag === tag &&
      inheritedSecret &&
      who?.holder?.child_key !== undefined &&
      who.holder.child_key === sha256(inheritedSecret)
    )
      return { testbed: info.testbed, release: async () => {} };
    if (who === undefined && Date.now() < deadline + 1000) {
      // Freed between the two: try again (briefly paced, should the name be bound by something
      // that does not listen).
      await sleep(20, o.signal);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new MvmError(
        'CONFLICT',
        `testbed ${info.testbed} is being worked on by ${describeHolder(who?.holder)}: refusing \`mvm runner ${info.command}\``,
        {
          hint: 'two runners must not drive one device at once: wait until it has finished (or stop it), then try again',
        },
      );
    }
    const key = JSON.stringify(who?.holder ?? null);
    if (key !== told) {
      told = key;
      o.onWait?.(who?.holder);
    }
    await sleep(o.pollMs ?? 250, o.signal);
  }
}

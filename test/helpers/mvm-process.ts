// Running `mvm` as a real child process in tests: capture its output line by line, wait for a
// line with a deadline (never a blind sleep), stop it, and check that nothing was left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { MVM_BIN } from '../../shared/paths.js';
import { assertDistFresh } from './dist-fresh.js';
import './isolate-locks.js';

/** The `mvm` executable to spawn, once dist/ is known to be as new as its sources. */
export function mvmBin(): string {
  assertDistFresh();
  return MVM_BIN;
}

export interface MvmProcess {
  child: ChildProcess;
  pid: number;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first line (stdout or stderr, past or future) matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<number | string>;
  kill9(): Promise<number | string>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Start the child in its own process group (as daemons run). */
  detached?: boolean;
  stdin?: string;
  /** Run as this user (uid = gid; the test must be root). */
  uid?: number;
  /** Run this script with Node.js instead of bin/mvm.js (the bundled agent). */
  script?: string;
}

/**
 * The CI system's own variables are not handed on: the CLI behaves differently under CI (outputs
 * flattened, an interrupt cancels the job, GitHub annotations), and a test that wants that says so
 * in its own env. Undefined values are left out of a child's environment.
 */
const NOT_IN_CI = { CI: undefined, GITHUB_ACTIONS: undefined, GITHUB_STEP_SUMMARY: undefined };

const running = new Set<MvmProcess>();

export function startMvm(args: string[], opts: StartOptions = {}): MvmProcess {
  const child = spawn(process.execPath, [opts.script ?? mvmBin(), ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...NOT_IN_CI, MVM_LOG_LEVEL: process.env.MVM_LOG_LEVEL ?? 'debug', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
  });
  if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  else child.stdin!.end();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const feed = (arr: string[]) => (line: string) => {
    arr.push(line);
    for (const l of listeners) l(line);
    if (process.env.MVM_TEST_ECHO) process.stderr.write(`[mvm ${child.pid}] ${line}\n`);
  };
  createInterface({ input: child.stdout! }).on('line', feed(stdout));
  createInterface({ input: child.stderr! }).on('line', feed(stderr));
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const proc: MvmProcess = {
    child,
    pid: child.pid!,
    stdout,
    stderr,
    exited,
    waitForLine(re, timeoutMs = 20_000) {
      const past = [...stdout, ...stderr].find((l) => re.test(l));
      if (past !== undefined) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(onLine);
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${re}; stderr tail:\n${stderr.slice(-20).join('\n')}`,
            ),
          );
        }, timeoutMs);
        const onLine = (line: string) => {
          if (re.test(line)) {
            clearTimeout(timer);
            listeners.delete(onLine);
            resolve(line);
          }
        };
        listeners.add(onLine);
        void exited.then((code) => {
          if (!listeners.has(onLine)) return;
          clearTimeout(timer);
          listeners.delete(onLine);
          reject(
            new Error(
              `mvm ${args.join(' ')} exited (${code}) before printing ${re}; stderr tail:\n${stderr.slice(-20).join('\n')}`,
            ),
          );
        });
      });
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** Runs `mvm args…` to completion and returns its exit code and output. */
export async function runMvm(
  args: string[],
  opts: StartOptions & { timeoutMs?: number } = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = startMvm(args, opts);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout.join('\n'), stderr: p.stderr.join('\n') };
}

/** Stops every mvm process a test started and has not stopped; returns how many were left. */
export async function stopAllMvm(): Promise<number> {
  const left = [...running];
  await Promise.all(left.map((p) => p.stop(5000)));
  return left.length;
}

/** What a truthy check leaves of `T`. */
type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
  everyMs = 25,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// Child processes of a bench: `mvm …` (or another node script) with stdout read line by line and
// stderr (the pino log) written to a file in the bench's folder, so a failed run can be read
// afterwards without the log passing through the bench. Every child is remembered until it exits,
// so stopAll() in the bench's clean-up ends whatever a failure left running — by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { MVM_BIN } from '../../shared/paths.js';

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  /** performance.now() just before the spawn. */
  spawnedAt: number;
  logFile: string;
  /** stdout lines so far. */
  lines: string[];
  exited: Promise<number | string>;
  /** The first stdout line matching `re` (past or future) and when it arrived (performance.now()). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<{ line: string; at: number }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<number | string>;
}

export interface ProcOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Where stderr goes (appended). */
  logFile: string;
}

const running = new Set<Proc>();

/** Starts `node script args…`. */
export function startNode(name: string, script: string, args: string[], opts: ProcOptions): Proc {
  const logFd = openSync(opts.logFile, 'a');
  const spawnedAt = performance.now();
  // MVM_BENCH_PROFILE_DIR=DIR: each child writes a V8 CPU profile to DIR/NAME when it exits.
  const profile = process.env.MVM_BENCH_PROFILE_DIR;
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}/${name}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', logFd],
  });
  closeSync(logFd);
  const lines: string[] = [];
  const arrivals: number[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    arrivals.push(performance.now());
    for (const f of listeners) f();
  });
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
  const p: Proc = {
    name,
    pid: child.pid!,
    child,
    spawnedAt,
    logFile: opts.logFile,
    lines,
    exited,
    waitForLine(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        let done = false;
        const check = () => {
          const i = lines.findIndex((l) => re.test(l));
          if (i < 0 || done) return;
          done = true;
          finish();
          resolve({ line: lines[i], at: arrivals[i] });
        };
        const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const fail = (why: string) => {
          if (done) return;
          done = true;
          finish();
          reject(
            new Error(`${name} (pid ${child.pid}): ${why} waiting for ${re}; log tail:\n${logTail(opts.logFile)}`),
          );
        };
        listeners.add(check);
        check();
        void exited.then((code) => fail(`exited (${code})`));
      });
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
  running.add(p);
  void exited.then(() => running.delete(p));
  return p;
}

/** Starts `mvm args…`. */
export function startMvm(name: string, args: string[], opts: ProcOptions): Proc {
  return startNode(name, MVM_BIN, args, opts);
}

/**
 * Stops every child still running, each by its PID, the last started first: the factory before
 * the server it drains against. Returns their names.
 */
export async function stopAll(graceMs = 10_000): Promise<string[]> {
  const left = [...running].reverse();
  for (const p of left) await p.stop(graceMs);
  return left.map((p) => `${p.name} (pid ${p.pid})`);
}

export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

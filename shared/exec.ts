// Running an external program (sp-runner, esptool, humility, a test script): argv arrays only,
// never a shell string; its own process group so a timeout or abort stops the whole tree; output
// captured (bounded) and optionally streamed.
import { stopProcessGroup } from './process-tree.js';
import { spawnInGroup } from './spawn.js';

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each chunk of output as it arrives. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Keep at most this many characters of each stream (the tail). */
  maxCapture?: number;
  /** Grace between SIGTERM and SIGKILL when stopping the group. */
  killGraceMs?: number;
}

export interface ExecResult {
  argv: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  /** The program could not be started (ENOENT, EACCES): the message says why. */
  spawnError?: string;
}

function appendBounded(current: string, chunk: string, max: number): string {
  const next = current + chunk;
  return next.length > max ? next.slice(next.length - max) : next;
}

/** Runs argv to completion (or timeout/abort). Never throws for the program's own failure. */
export function execArgv(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
    throw new TypeError('execArgv needs a non-empty array of strings');
  }
  return run(argv, opts);
}

async function run(argv: string[], opts: ExecOptions): Promise<ExecResult> {
  const start = Date.now();
  const max = opts.maxCapture ?? 1_000_000;
  const started = await spawnInGroup(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env });
  if (!started.ok) {
    const empty = { code: null, signal: null, stdout: '', stderr: '', timedOut: false, aborted: false };
    return { argv, ...empty, durationMs: Date.now() - start, spawnError: `${argv[0]}: ${started.error.message}` };
  }
  const { child } = started;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const stopGroup = () => {
      if (child.pid !== undefined) void stopProcessGroup(child.pid, opts.killGraceMs ?? 2000);
    };
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            stopGroup();
          }, opts.timeoutMs)
        : undefined;
    const onAbort = () => {
      aborted = true;
      stopGroup();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout = appendBounded(stdout, c, max);
      opts.onStdout?.(c);
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr = appendBounded(stderr, c, max);
      opts.onStderr?.(c);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: string) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // The leader is gone; make sure nothing it started lingers.
      if (child.pid !== undefined && (timedOut || aborted)) void stopProcessGroup(child.pid, 0);
      resolve({ argv, code, signal, stdout, stderr, timedOut, aborted, durationMs: Date.now() - start, spawnError });
    };
    child.on('error', (err) => finish(null, null, `${argv[0]}: ${err.message}`));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** "exit 3", "killed by SIGTERM after the 30 s timeout", … for messages. */
export function describeExit(r: ExecResult): string {
  if (r.spawnError) return `could not start: ${r.spawnError}`;
  if (r.timedOut) return `stopped after its timeout (${r.durationMs} ms)`;
  if (r.aborted) return 'stopped: operation aborted';
  if (r.signal) return `killed by ${r.signal}`;
  return `exit ${r.code}`;
}

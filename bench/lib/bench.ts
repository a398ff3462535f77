// The frame every bench runs in: `node dist/bench/NAME.js [--quick]`. It gives the bench a temp
// folder (under the run's folder when bench/run.ts started it), marks every child with the run's
// marker, prints the bench's figures as ONE JSON line on stdout, and afterwards stops what is still
// running, checks that no process of the bench is left and removes the folder (after printing the
// tails of its logs when the bench failed). A leftover is killed by PID and fails the bench: a
// bench that leaks would skew the next one's figures.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newToken } from '../../shared/ids.js';
import { killLeftovers, leftoverProcesses, RUN_MARKER } from './leaks.js';
import { load, machine } from './machine.js';
import { logTail, stopAll } from './proc.js';

export interface BenchContext {
  quick: boolean;
  /** This bench's own temp folder (removed afterwards). */
  dir: string;
  /** A log file name in the bench's folder. */
  log(name: string): string;
  /** A fresh sub-folder of the bench's folder. */
  subdir(name: string): string;
}

export type Figures = Record<string, unknown>;

export function runBench(name: string, fn: (ctx: BenchContext) => Promise<Figures>): void {
  const quick = process.argv.includes('--quick');
  const root = process.env.MVM_BENCH_TMP ?? tmpdir();
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${name}-`));
  // Children inherit the marker (our own /proc environ keeps what we were started with).
  const marker = (process.env[RUN_MARKER] ??= newToken(16));
  const loadStart = load();
  const ctx: BenchContext = {
    quick,
    dir,
    log: (n) => join(dir, `${n}.log`),
    subdir: (n) => {
      const d = join(dir, n);
      mkdirSync(d, { recursive: true });
      return d;
    },
  };
  const main = async () => {
    let failed = false;
    try {
      const figures = await fn(ctx);
      process.stdout.write(
        JSON.stringify({ bench: name, ...(quick ? { quick: true } : {}), ...figures, machine: machine(loadStart) }) +
          '\n',
      );
    } catch (err) {
      failed = true;
      process.stderr.write(`bench ${name} failed: ${(err as Error).stack ?? err}\n`);
    } finally {
      // The normal way a bench's server and factory end: SIGTERM, by PID, each waited for.
      await stopAll();
      const left = leftoverProcesses(marker, dir);
      if (left.length > 0) {
        killLeftovers(left);
        process.stderr.write(
          `bench ${name}: LEAKED ${left.length} process(es), killed: ${left.map((l) => `${l.pid} ${l.command}`).join('; ')}\n`,
        );
        failed = true;
      }
      if (failed) printLogs(dir);
      rmSync(dir, { recursive: true, force: true });
    }
    // Keep-alive sockets and timers of the libraries used would hold the process a while longer.
    process.exit(failed ? 1 : 0);
  };
  void main();
}

function printLogs(dir: string): void {
  // The bench's own logs first, then a few agents' logs: enough to see what went wrong.
  const logs = (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.log'))
    .sort((a, b) => a.split('/').length - b.split('/').length);
  for (const f of logs.slice(0, 8)) {
    process.stderr.write(`--- ${f} (tail)\n${logTail(join(dir, f))}\n`);
  }
}

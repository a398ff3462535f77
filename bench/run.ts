// `npm run bench` / `node dist/bench/run.js [--quick] [name…]`: runs the benches one after the
// other, each in its own process (so one bench's memory, JIT state and leftovers cannot colour the
// next one's figures), and prints each bench's ONE JSON line on stdout; progress goes to stderr.
// All temp folders live under one folder for the run, and every process a bench starts carries the
// run's marker: after each bench nothing of it may still run, and at the end the folder must be
// empty. Anything left is killed by PID, removed, and fails the run.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { newToken } from '../shared/ids.js';
import { killLeftovers, leftoverProcesses, RUN_MARKER } from './lib/leaks.js';

/** In the order they run: cheap and latency-sensitive first, the machine-filling ones last. */
const BENCHES = [
  'client-start',
  'server-dispatch',
  'dispatch-latency',
  'factory-tick',
  'rule-engine',
  'log-streaming',
  'throughput',
  'throughput-hosts',
  'telemetry',
  'fleet',
  'footprint',
  'web-ui',
] as const;

const HERE = dirname(fileURLToPath(import.meta.url));

function usage(message: string): never {
  process.stderr.write(
    `mvm bench: error: ${message}\nusage: node dist/bench/run.js [--quick] [${BENCHES.join('|')}…]\n`,
  );
  process.exit(2);
}

async function runOne(name: string, quick: boolean, root: string, marker: string): Promise<boolean> {
  const started = Date.now();
  process.stderr.write(`# ${name}: running${quick ? ' (quick)' : ''}\n`);
  const child = spawn(process.execPath, [join(HERE, `${name}.js`), ...(quick ? ['--quick'] : [])], {
    env: { ...process.env, MVM_BENCH_TMP: root, [RUN_MARKER]: marker },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let printed = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      /* not a figures line */
    }
    if (parsed && typeof parsed === 'object' && (parsed as { bench?: unknown }).bench === name) {
      printed++;
      process.stdout.write(line + '\n');
    } else process.stderr.write(`[${name}] ${line}\n`);
  });
  // A bench that hangs must not hold the run forever; its children are then caught as leftovers.
  const limitMs = (quick ? 5 : 30) * 60_000;
  const timer = setTimeout(() => {
    process.stderr.write(`# ${name}: no result after ${limitMs / 60_000} min; killing it\n`);
    child.kill('SIGKILL');
  }, limitMs);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  clearTimeout(timer);
  let ok = code === 0 && printed === 1;
  if (code === 0 && printed !== 1) process.stderr.write(`# ${name}: printed ${printed} figure lines instead of one\n`);
  const left = leftoverProcesses(marker, root);
  if (left.length > 0) {
    killLeftovers(left);
    process.stderr.write(
      `# ${name}: ${left.length} process(es) left running, killed: ${left.map((l) => `${l.pid} ${l.command}`).join('; ')}\n`,
    );
    ok = false;
  }
  process.stderr.write(
    `# ${name}: ${ok ? 'done' : `FAILED (${code ?? signal})`} in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
  return ok;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const unknownFlag = args.find((a) => a.startsWith('-') && a !== '--quick');
  if (unknownFlag) usage(`unknown option ${unknownFlag}`);
  const names = args.filter((a) => !a.startsWith('-'));
  for (const n of names) if (!(BENCHES as readonly string[]).includes(n)) usage(`no bench named ${JSON.stringify(n)}`);
  const selected = names.length > 0 ? BENCHES.filter((b) => names.includes(b)) : [...BENCHES];

  const root = mkdtempSync(join(tmpdir(), 'mvm-bench-'));
  const marker = newToken(16);
  let failures = 0;
  try {
    for (const name of selected) if (!(await runOne(name, quick, root, marker))) failures++;
  } finally {
    const leftFiles = readdirSync(root);
    if (leftFiles.length > 0) {
      process.stderr.write(`# temp folders left behind (removed now): ${leftFiles.join(', ')}\n`);
      failures++;
    }
    rmSync(root, { recursive: true, force: true });
  }
  process.stderr.write(`# ${selected.length} bench(es) run, ${failures} failure(s)\n`);
  process.exitCode = failures > 0 ? 1 : 0;
}

void main();

// Measures the agent's peak RSS on large work, against a real `mvm server`:
// a task printing 1,000,000 lines and a 200 MB output file. Not a test (no timed asserts):
//   npx tsc -p . && LINES=1000000 OUTPUT_MB=200 \
//     node --import=file://$PWD/node_modules/@tapjs/typescript/dist/esm/import.mjs test/agent/measure-memory.ts
// Prints one JSON line of figures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/mvm-process.js';
import { startLab } from './harness.js';

const teardowns: Array<() => void | Promise<void>> = [];
const t = { teardown: (fn: () => void | Promise<void>) => void teardowns.push(fn) };

function rssKb(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
    return { rss: get('VmRSS'), hwm: get('VmHWM') };
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const lines = Number(process.env.LINES ?? 1_000_000);
  const mb = Number(process.env.OUTPUT_MB ?? 200);
  const lab = await startLab(t);
  const job = await lab.submit({
    output_rules: ['/work/output/*'],
    script: `seq 1 ${lines}\nhead -c ${mb}M /dev/urandom > "$MVM_OUTPUT_DIR/big.bin"`,
  });
  const w = await lab.worker(job);
  const start = Date.now();
  const agent = lab.startAgent(
    w.bootstrap,
    join(lab.dir, 'agent'),
    process.env.SPOOL ? ['--spool-memory', process.env.SPOOL] : [],
  );
  let peak = 0;
  const timer = setInterval(() => {
    const m = rssKb(agent.pid);
    if (m) peak = Math.max(peak, m.hwm, m.rss);
  }, 50);
  await agent.exited;
  clearInterval(timer);
  const seconds = (Date.now() - start) / 1000;
  const j = await lab.waitDone(job);
  const events = await lab.events(job);
  const out = events.filter((e) => e.stream === 'stdout');
  const inOrder = out.every((e, i) => e.payload === String(i + 1));
  const outputs = await waitFor(
    () => lab.user.get<Array<{ path: string; size: number }>>(`/0/jobs/${job}/outputs`),
    'outputs',
    10_000,
  );
  console.log(
    JSON.stringify({
      lines,
      outputMb: mb,
      state: j.state,
      stdoutEvents: out.length,
      inOrder,
      outputs: outputs.map((o) => [o.path, o.size]),
      agentPeakRssMb: Math.round(peak / 1024),
      seconds,
    }),
  );
  for (const fn of teardowns.reverse()) await fn();
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

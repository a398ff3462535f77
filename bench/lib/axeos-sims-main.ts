// `node dist/bench/lib/axeos-sims-main.js N`: N AxeOS simulators in this one process, on free
// loopback ports, so that a poller's CPU and memory figures are its own. Prints one line
// `{"urls":[…]}` once all listen; closes them all on SIGTERM.
import { startAxeosSim, type AxeosSim } from '../../sim/index.js';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const sims: AxeosSim[] = [];
  // Started in small groups: a thousand listen() calls at once gain nothing.
  for (let i = 0; i < n; i += 50) {
    const group = Array.from({ length: Math.min(50, n - i) }, (_, k) =>
      startAxeosSim({ listen: '127.0.0.1:0', board: '601', seed: `bench-${i + k}` }),
    );
    sims.push(...(await Promise.all(group)));
  }
  process.stdout.write(JSON.stringify({ urls: sims.map((s) => s.url) }) + '\n');
  const stop = async () => {
    await Promise.all(sims.map((s) => s.close()));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err) => {
  process.stderr.write(`axeos simulators failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});

// The bench runner's smoke run: `node dist/bench/run.js --quick` with two cheap benches, as a
// subprocess. Checks only the shape of what it prints — one JSON line per bench with its figures
// and the machine — never a figure's value: benches are measured, not asserted.
// Run `npx tsc -p .` first: the runner runs from dist/.
import t from 'tap';
import { execFile } from 'node:child_process';
import { projectPath } from '../../shared/paths.js';

const RUN = projectPath('dist', 'bench', 'run.js');

const EXPECTED: Record<string, string[]> = {
  'server-dispatch': [
    'rounds',
    'submit_to_held_ping_ms',
    'submit_to_held_lease_ms',
    'submit_to_job_in_new_workers_ping_ms',
  ],
  telemetry: ['devices', 'interval_s', 'rounds', 'failed_readings', 'round_ms', 'cpu_pct_of_core', 'rss_mb'],
};

t.test('--quick prints one JSON line of figures per bench', async (t) => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      execFile(
        process.execPath,
        [RUN, '--quick', ...Object.keys(EXPECTED)],
        { timeout: 240_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    },
  );
  t.equal(code, 0, `the run succeeded${code ? `; stderr:\n${stderr}` : ''}`);
  const lines = stdout.trim().split('\n');
  t.equal(lines.length, Object.keys(EXPECTED).length, 'one line per bench');
  for (const line of lines) {
    const figures = JSON.parse(line) as Record<string, unknown>;
    const keys = EXPECTED[figures.bench as string];
    t.ok(keys, `a bench that was asked for: ${figures.bench}`);
    for (const k of keys ?? []) t.ok(k in figures, `${figures.bench}: has ${k}`);
    t.match(
      figures.machine,
      { cores: Number, node: String, load_start: Array, load_end: Array },
      `${figures.bench}: names the machine`,
    );
    t.match(
      figures.submit_to_held_ping_ms ?? figures.round_ms,
      { n: Number, p50: Number, p99: Number, max: Number },
      `${figures.bench}: a summary of measurements`,
    );
  }
});

t.test('an unknown bench name is a usage error', async (t) => {
  const code = await new Promise<number | null>((resolve) => {
    execFile(process.execPath, [RUN, 'no-such-bench'], (err) =>
      resolve(err ? ((err as { code?: number }).code ?? 1) : 0),
    );
  });
  t.equal(code, 2);
});

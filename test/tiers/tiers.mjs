#!/usr/bin/env node
// The test tiers. `npm test` (CI) runs every file under test/; two smaller sets for a developer:
//
//   npm run test:unit   the in-process tests below: no dist/, no daemons, no sshd, Chromium or
//                       Mosquitto (test/tiers/unit-guard.mjs refuses them), no build needed. The
//                       job server's API tests are here: they start it in-process
//                       (test/helpers/server-inprocess.ts). About 90 CPU-seconds in all, 48 s
//                       on two idle cores (the TypeScript through tsx: .taprc).
//   npm run test:fast   everything but the slow fault tests below (builds dist/ first).
//
// Extra arguments go to tap: `npm run test:unit -- -R terse`, `npm run test:fast -- test/factory`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { globSync } from 'tinyglobby';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Tests that run in one process: the code under test is imported, not spawned. */
export const UNIT = [
  'test/agent/events.test.ts',
  'test/agent/files.test.ts',
  'test/agent/lines.test.ts',
  'test/agent/marker.test.ts',
  'test/agent/output-rules.test.ts',
  'test/agent/spool.test.ts',
  'test/agent/task-env.test.ts',
  'test/agent/task.test.ts',
  'test/cli/follow.test.ts',
  'test/cli/format.test.ts',
  'test/cli/job-spec.test.ts',
  'test/cli/jobfile.test.ts',
  'test/cli/labs.test.ts',
  'test/cli/outputs.test.ts',
  'test/cli/profile.test.ts',
  'test/cli/typed-commands.test.ts',
  'test/deploy/grafana.test.ts',
  'test/factory/executor-signal.test.ts',
  'test/factory/executor.test.ts',
  'test/factory/instances.test.ts',
  'test/factory/loop.test.ts',
  'test/factory/requirements.test.ts',
  'test/faults/no-shell.test.ts',
  'test/fleet-energy/config.test.ts',
  'test/fleet-energy/fleet-actuator.test.ts',
  'test/fleet-energy/fleet-stores.test.ts',
  'test/fleet/cli-format.test.ts',
  'test/fleet/collector.test.ts',
  'test/fleet/config.test.ts',
  'test/fleet/data-plane.test.ts',
  'test/fleet/drift-watch.test.ts',
  'test/fleet/event-streams.test.ts',
  'test/fleet/history.test.ts',
  'test/fleet/metrics.test.ts',
  'test/fleet/stores.test.ts',
  'test/runner/axeos.test.ts',
  'test/runner/command.test.ts',
  'test/runner/library.test.ts',
  'test/runner/nmminer.test.ts',
  'test/runner/parsers.test.ts',
  'test/runner/test-definition.test.ts',
  'test/runner/units.test.ts',
  'test/server/admin.test.ts',
  'test/server/auth.test.ts',
  'test/server/bad-input.test.ts',
  'test/server/dispatch.test.ts',
  'test/server/events-model.test.ts',
  'test/server/follow.test.ts',
  'test/server/in-process.test.ts',
  'test/server/lifecycle.test.ts',
  'test/server/observe.test.ts',
  'test/server/output-commit.test.ts',
  'test/server/retention.test.ts',
  'test/server/route-schemas.test.ts',
  'test/server/worker-flow.test.ts',
  'test/shared/process-tree-stuck.test.ts',
  'test/shared/process-tree.test.ts',
  'test/shared/retry.test.ts',
  'test/shared/spec-date-time.test.ts',
  'test/shared/spawn.test.ts',
  'test/sim/axeos.test.ts',
  'test/sim/models.test.ts',
  'test/ssh/unit.test.ts',
  'test/tiers/tiers.test.ts',
  'test/web/format.test.ts',
  'test/web/lab-proxy.test.ts',
];

/** Fault tests that take a minute or wait out long outages: skipped by test:fast, run by npm test. */
export const SLOW = [
  'test/faults/server-outage.test.ts', // the server down for 60 s
  'test/faults/agent-never-online.test.ts', // two agent start timeouts
  'test/faults/factory-kill.test.ts', // a factory SIGKILLed at every fault point
  'test/faults/burst.test.ts', // 500 submissions
  'test/faults/multi-factory.test.ts', // three factories under a burst
];

/** Every test file `npm test` runs (the include of .taprc). */
export function allTestFiles(root = ROOT) {
  return globSync('test/**/*.test.ts', { cwd: root, ignore: ['**/fixtures/**', '**/node_modules/**'] }).sort();
}

export function tierFiles(tier, root = ROOT) {
  if (tier === 'unit') return UNIT;
  if (tier === 'fast') return allTestFiles(root).filter((f) => !SLOW.includes(f));
  throw new Error(`unknown tier ${JSON.stringify(tier)}: expected unit or fast`);
}

function main() {
  const [tier, ...tapArgs] = process.argv.slice(2);
  let files;
  try {
    files = tierFiles(tier);
  } catch (err) {
    process.stderr.write(`${err.message}\nusage: node test/tiers/tiers.mjs unit|fast [tap arguments]\n`);
    process.exit(2);
  }
  const missing = [...UNIT, ...SLOW].filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length) {
    process.stderr.write(`test/tiers/tiers.mjs lists files that do not exist: ${missing.join(', ')}\n`);
    process.exit(2);
  }
  // Files or folders given on the command line narrow the tier to those under them.
  const paths = tapArgs.filter((a) => !a.startsWith('-') && existsSync(join(ROOT, a)));
  const options = tapArgs.filter((a) => !paths.includes(a));
  if (paths.length) files = files.filter((f) => paths.some((p) => !relative(p, f).startsWith('..')));
  // tap given no file runs its whole include: say so instead of running every test.
  if (files.length === 0) {
    process.stderr.write(
      `no test file of the ${tier} tier is under ${paths.join(', ')}` +
        (tier === 'unit' ? ' (run other files with `npx tap FILE`, or `npm run test:fast -- FILE`)\n' : '\n'),
    );
    process.exit(2);
  }
  // A --node-arg given here replaces .taprc's list rather than adding to it: repeat tsx's.
  const extra =
    tier === 'unit' ? ['--node-arg=--import=tsx/esm', '--node-arg=--import=./test/tiers/unit-guard.mjs'] : [];
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), ...extra, ...options, ...files],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, MVM_TEST_TIER: tier },
    },
  );
  process.exit(r.status ?? 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

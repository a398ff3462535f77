// The bundled agent the factory starts (dist/agent/mvm-agent.cjs, agent/build.mjs) is the same
// agent as `mvm agent run`: the same command line, the same errors, the same job run.
import t from 'tap';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultAgentCommand } from '../../factory/config/load.js';
import { MVM_BIN } from '../../shared/paths.js';
import { ensureAgentBundle } from '../helpers/agent-bundle.js';
import { startMvm, type MvmProcess } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { agentLog, normalise, startLab } from './harness.js';

const bundle = ensureAgentBundle();

t.test('the factory starts the bundle when it is newer than the compiled agent, else `mvm agent run`', async (t) => {
  const dir = tempDir(t);
  const b = join(dir, 'mvm-agent.cjs');
  const compiled = join(dir, 'main.js');
  writeFileSync(compiled, '');
  t.same(defaultAgentCommand(b, compiled), [process.execPath, MVM_BIN, 'agent', 'run'], 'no bundle');
  writeFileSync(b, '');
  utimesSync(compiled, new Date(2_000_000_000_000), new Date(2_000_000_000_000));
  t.same(defaultAgentCommand(b, compiled), [process.execPath, MVM_BIN, 'agent', 'run'], 'a stale bundle');
  utimesSync(b, new Date(2_000_000_001_000), new Date(2_000_000_001_000));
  t.same(defaultAgentCommand(b, compiled), [process.execPath, b], 'a fresh bundle');
  t.same(defaultAgentCommand(), [process.execPath, bundle], 'this checkout: the built bundle');
});

async function both(args: string[], env: Record<string, string | undefined> = {}) {
  const run = async (p: MvmProcess) => ({ code: await p.exited, stderr: p.stderr.join('\n'), stdout: p.stdout });
  return {
    cli: await run(startMvm(['agent', 'run', ...args], { env })),
    bundle: await run(startMvm(['run', ...args], { env, script: bundle })),
  };
}

t.test('usage errors: the same exit status and message as `mvm agent run`', async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string[], RegExp, number]> = [
    [['--url', 'nope', '--workdir', dir, '--bootstrap', 'b'], /mvm: error: --url "nope" is not a URL/, 2],
    [['--url', 'http://127.0.0.1:9', '--workdir', dir, '--bootstrap', 'b', '--grace', 'soon'], /--grace "soon"/, 2],
    [['--url', 'http://127.0.0.1:9', '--workdir', dir], /no bootstrap string/, 2],
    [['--workdir', dir, '--bootstrap', 'b'], /Missing required argument: url/, 2],
    [
      ['--url', 'http://127.0.0.1:9', '--workdir', dir, '--bootstrap', 'b', '--bootstrap-file', 'f'],
      /mutually exclusive/,
      2,
    ],
  ];
  for (const [args, message, code] of cases) {
    const r = await both(args, { MVM_BOOTSTRAP: undefined });
    t.equal(r.cli.code, code, `cli ${args.join(' ')}`);
    t.equal(r.bundle.code, code, `bundle ${args.join(' ')}`);
    t.match(r.cli.stderr, message);
    t.match(r.bundle.stderr, message);
  }
  const unknown = startMvm(['--nope'], { script: bundle });
  t.equal(await unknown.exited, 2, 'an unknown option');
  t.match(unknown.stderr.join('\n'), /Unknown option '--nope'/);
  const help = startMvm(['--help'], { script: bundle });
  t.equal(await help.exited, 0);
  t.match(help.stdout.join('\n'), /--bootstrap-file/);
});

t.test('a job run by the bundle: the same events and files as by `mvm agent run`', async (t) => {
  const lab = await startLab(t);
  const spec = {
    name: 'bundle',
    output_rules: ['/work/output/*'],
    tasks: [
      {
        name: 'env',
        env_clear: false,
        env: { FOO: 'bar' },
        script: 'echo "tz=$TZ foo=$FOO"\necho to-stderr >&2\nprintf r > "$MVM_OUTPUT_DIR/r.txt"\nmvm --version',
      },
      { name: 'fail', env_clear: false, env: {} as Record<string, string>, script: 'exit 3' },
      { name: 'skipped', env_clear: false, env: {} as Record<string, string>, script: 'echo never' },
    ],
  };
  const logs: string[][] = [];
  for (const viaBundle of [false, true]) {
    const job = await lab.submit(spec);
    const w = await lab.worker(job);
    const workdir = join(lab.dir, viaBundle ? 'bundle' : 'cli');
    const agent = lab.startAgent(w.bootstrap, workdir, [], undefined, viaBundle);
    t.equal(await agent.exited, 0, 'the agent exits 0 once the job is done');
    t.equal((await lab.waitDone(job)).state, 'failed');
    const outputs = await lab.outputs(job);
    t.same(
      outputs.map((o) => [o.path, o.body.toString()]),
      [['/work/output/r.txt', 'r']],
    );
    t.ok(existsSync(join(workdir, 'bin', 'mvm')), 'the tasks get the mvm shim');
    logs.push(normalise(agentLog(await lab.events(job))));
  }
  t.same(logs[1], logs[0], 'the same job log');
  t.ok(logs[1].includes('stdout[0]: tz=UTC foo=bar'), 'the task ran');
});

// `mvm job …` as a CI system runs it: the real CLI (child processes) against the real `mvm server`,
// a scripted factory + agent doing the work. A run under GITHUB_ACTIONS=true with a step summary
// file; SIGTERM during --wait cancelling the job on the server when CI=true (and not otherwise);
// the one result object of --json --wait; outputs flattened and DIR/junit.xml; the exit statuses.
import t, { type Test } from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from '../../shared/api/types.js';
import { runMvm, startMvm, stopAllMvm, waitFor } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { ScriptedWorker } from './scripted-worker.js';

const dir = tempDir(t, 'mvm-ci-');
const server = await startServer(t, { env: { MVM_LOG_LEVEL: 'warn' } });
t.teardown(() => stopAllMvm());
writeFileSync(join(dir, 'no-profile.toml'), '');
// Nothing from the environment running these tests (which may itself be a CI) leaks in.
const baseEnv = {
  MVM_PROFILE: join(dir, 'no-profile.toml'),
  MVM_URL: server.url,
  MVM_TOKEN: '',
  MVM_ADMIN_TOKEN: '',
  MVM_LOG_LEVEL: 'warn',
  CI: '',
  GITHUB_ACTIONS: '',
  GITHUB_STEP_SUMMARY: '',
};
const admin = (args: string[]) => runMvm(args, { env: { ...baseEnv, MVM_ADMIN_TOKEN: server.adminToken } });

const target = JSON.parse((await admin(['admin', 'target', 'create', 'bitaxe', '--json'])).stdout).id as string;
const factoryToken = (await admin(['admin', 'factory', 'create', 'lab'])).stdout.trim();
const userToken = JSON.parse((await admin(['admin', 'user', 'create', 'ci', '--json'])).stdout).token as string;
const userEnv = { ...baseEnv, MVM_TOKEN: userToken };
const asUser = (args: string[], env: Record<string, string> = {}) => runMvm(args, { env: { ...userEnv, ...env } });
const script = join(dir, 'hw.sh');
writeFileSync(script, 'mvm runner test --spec "$MVM_INPUT_DIR/spec/hashrate.yaml"\n');

/** What `mvm runner test` leaves in the outputs: one passed and one failed check. */
const results = {
  name: 'gamma-hashrate',
  ok: false,
  preparation: [{ device: 'gamma', spec: 'miner', ok: true, message: 'already runs v2.15.0' }],
  script: {
    name: 'script hashrate.sh',
    argv: ['bash', '/tmp/x/jobs/01J/input/spec/hashrate.sh'],
    ok: true,
    message: 'exit 0',
  },
  checks: [
    {
      name: 'hashrate',
      testbedDevice: 'gamma',
      ok: false,
      message: 'mean 512 GH/s is 47.8 % of expected 1071 GH/s (≥ 90 %)',
    },
    { name: 'temperature', testbedDevice: 'gamma', ok: true, message: 'highest temperature 61 °C ≤ 75 °C' },
  ],
};
const junit = '<?xml version="1.0"?><testsuites><testsuite name="gamma-hashrate"/></testsuites>\n';

t.test('GitHub Actions: step summary, ::error:: annotations, one result object, flat junit.xml, exit 1', async (t) => {
  const work = tempDir(t);
  const summary = join(work, 'summary.md');
  writeFileSync(summary, '# earlier step\n');
  const out = join(work, 'results');
  const cli = startMvm(['job', 'run', '--target', 'bitaxe', '--script', script, '--wait', '--json', '--outputs', out], {
    env: { ...userEnv, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
  });
  const worker = new ScriptedWorker(server, server.url, factoryToken);
  t.teardown(() => worker.destroy());
  const job = await worker.takeJob(target);
  // A JSON log line from the runner is shown as one event like any other (in --json, as sent).
  await worker.append(job.id, [
    { stream: 'stderr', payload: '{"level":40,"time":1,"testbed":"bench-1","msg":"hashrate low"}', task: 0 },
  ]);
  await worker.output(job.id, '/work/output/results.json', Buffer.from(JSON.stringify(results)));
  await worker.output(job.id, '/work/output/junit.xml', Buffer.from(junit));
  await worker.completeTask(job.id, 0, true);
  await worker.completeJob(job.id, true);
  t.equal(await cli.exited, 1, cli.stderr.join('\n'));

  // stdout: the events as JSON lines, then the result object last.
  const last = JSON.parse(cli.stdout[cli.stdout.length - 1]);
  t.match(last, {
    id: job.id,
    state: 'failed',
    outputs: [
      { path: '/work/output/results.json', file: join(out, 'results.json') },
      { path: '/work/output/junit.xml', file: join(out, 'junit.xml') },
    ],
    checks: [
      { name: 'prepare gamma', ok: true },
      { name: 'script hashrate.sh', ok: true },
      { name: 'hashrate [gamma]', ok: false, message: /47\.8 %/ },
      { name: 'temperature [gamma]', ok: true },
    ],
  });
  for (const line of cli.stdout.slice(0, -1)) t.match(JSON.parse(line), { seq: Number, stream: String });
  // CI=true flattens: DIR/junit.xml, not DIR/work/output/junit.xml.
  t.equal(readFileSync(join(out, 'junit.xml'), 'utf8'), junit);
  t.notOk(existsSync(join(out, 'work')));

  const stderr = cli.stderr.join('\n');
  t.match(stderr, /mvm: 1 failed check:\n {2}FAIL hashrate \[gamma\]: mean 512 GH\/s/);
  t.match(stderr, /^::error title=gamma-hashrate%3A hashrate \[gamma\]::mean 512 GH\/s is 47\.8 %25 of expected/m);
  t.equal(stderr.match(/^::error/gm)?.length, 1, 'one annotation: the failed check');
  const md = readFileSync(summary, 'utf8');
  t.match(md, /^# earlier step\n/, 'appended, not overwritten');
  t.match(
    md,
    new RegExp(`### ❌ mvm job hw: failed\\n\\nJob \`${job.id}\` on target \`bitaxe\` — 3 of 4 checks passed`),
  );
  t.match(
    md,
    /\| ❌ \| hashrate \[gamma\] \| gamma-hashrate \| mean 512 GH\/s is 47\.8 % of expected 1071 GH\/s \(≥ 90 %\) \|/,
  );
  t.match(md, /\| ✅ \| temperature \[gamma\] \|/);
});

t.test('human output: the failed checks repeated last, annotations on stdout, kept layout outside CI', async (t) => {
  const work = tempDir(t);
  const summary = join(work, 'summary.md');
  const out = join(work, 'results');
  const cli = startMvm(['job', 'run', '--target', 'bitaxe', '--script', script, '--outputs', out], {
    env: { ...userEnv, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
  });
  const worker = new ScriptedWorker(server, server.url, factoryToken);
  t.teardown(() => worker.destroy());
  const job = await worker.takeJob(target);
  await worker.append(job.id, [
    {
      stream: 'stderr',
      payload: '{"level":40,"time":1,"testbed":"bench-1","device":"gamma","msg":"hashrate low"}',
      task: 0,
    },
    { stream: 'stdout', payload: 'plain script output', task: 0 },
  ]);
  await worker.output(job.id, '/work/output/junit.xml', Buffer.from(junit));
  await worker.completeTask(job.id, 0, true);
  await worker.completeJob(job.id, true);
  t.equal(await cli.exited, 1, cli.stderr.join('\n'));
  // A JSON log line reads as level, context and message.
  t.match(cli.stdout.join('\n'), /stderr\.0\s+WARN  bench-1 gamma: hashrate low$/m);
  t.match(cli.stdout.join('\n'), /stdout\.0\s+plain script output$/m);
  t.notMatch(cli.stdout.join('\n'), /\{"level"/);
  // No results.json: the task is the check; the annotation names it.
  t.match(cli.stdout.join('\n'), /^::error title=task%3A hw::failed$/m);
  t.match(cli.stderr.join('\n'), /mvm: 1 failed check:\n {2}FAIL hw: failed\nmvm: job \S+ failed$/m);
  // Outside CI the layout is kept, and the one JUnit report is also at DIR/junit.xml.
  t.equal(readFileSync(join(out, 'work/output/junit.xml'), 'utf8'), junit);
  t.equal(readFileSync(join(out, 'junit.xml'), 'utf8'), junit);
  t.match(readFileSync(summary, 'utf8'), /\| ❌ \| hw \| task \| failed \|/);

  // One output copied by name, to stdout or to a file.
  const one = await asUser(['job', 'outputs', job.id, '--file', 'junit.xml']);
  t.equal(one.code, 0, one.stderr);
  t.equal(one.stdout + '\n', junit);
  const to = join(work, 'copy.xml');
  const copied = await asUser(['job', 'outputs', job.id, '--file', '/work/output/junit.xml', '--to', to, '--json']);
  t.equal(copied.code, 0, copied.stderr);
  t.match(JSON.parse(copied.stdout), { path: '/work/output/junit.xml', file: to, size: junit.length });
  t.equal(readFileSync(to, 'utf8'), junit);
  const none = await asUser(['job', 'outputs', job.id, '--file', 'nope.txt']);
  t.equal(none.code, 1);
  t.match(none.stderr, /the job has no output "nope\.txt" \(its outputs: \/work\/output\/junit\.xml\)/);
});

/** A job that runs until cancelled, and a `job run --wait` following it. */
async function waitingRun(t: Test, env: Record<string, string>, extra: string[] = []) {
  const cli = startMvm(['job', 'run', '--target', 'bitaxe', '--script', script, '--wait', ...extra], {
    env: { ...userEnv, ...env },
  });
  const worker = new ScriptedWorker(server, server.url, factoryToken);
  t.teardown(() => worker.destroy());
  const job = await worker.takeJob(target);
  await worker.append(job.id, [{ stream: 'stdout', payload: 'sampling', task: 0 }]);
  await cli.waitForLine(/stdout\.0\s+sampling/);
  return { cli, job, worker };
}

const jobState = async (id: string) => JSON.parse((await asUser(['job', 'show', id, '--json'])).stdout) as Job;

t.test('SIGTERM during --wait with CI=true cancels the job on the server; exit 130', async (t) => {
  const { cli, job } = await waitingRun(t, { CI: 'true' });
  cli.child.kill('SIGTERM');
  t.equal(await cli.exited, 130, cli.stderr.join('\n'));
  t.match(cli.stderr.join('\n'), new RegExp(`SIGTERM: cancelling job ${job.id} on the server`));
  t.match(cli.stderr.join('\n'), new RegExp(`mvm: error: SIGTERM: job ${job.id} cancelled on the server`));
  // The server has the job cancelled; it ends failed once its worker notices.
  t.match(await jobState(job.id), { cancelled: true });
});

t.test('SIGINT during --wait outside CI leaves the job running; exit 130; --cancel-on-interrupt cancels', async (t) => {
  const a = await waitingRun(t, {});
  a.cli.child.kill('SIGINT');
  t.equal(await a.cli.exited, 130, a.cli.stderr.join('\n'));
  t.match(a.cli.stderr.join('\n'), /SIGINT: stopped following job \S+; it goes on running on the server/);
  t.match(a.cli.stderr.join('\n'), /hint: .*--cancel-on-interrupt/);
  t.match(await jobState(a.job.id), { cancelled: false, state: 'running' });
  // What a person sees of the running job: its testbed (as the agent announces it), the owner by
  // name, the task running, ages.
  await a.worker.append(a.job.id, [{ stream: 'worker', payload: 'running on testbed bench-1', task: null }]);
  const show = await asUser(['job', 'show', a.job.id]);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /^testbed\s+bench-1$/m);
  t.match(show.stdout, /^owner\s+ci$/m);
  t.match(show.stdout, /^task 0\s+running\s+hw$/m);
  t.match(show.stdout, /^times\s+submitted (just now|\d+s ago), waited \d+s, running for \d+s/m);
  const list = await asUser(['job', 'list']);
  t.match(list.stdout, /^ID\s+STATE\s+AGE\s+OWNER\s+TARGET\s+NAME$/m);
  t.match(list.stdout, new RegExp(`^${a.job.id}\\s+running\\s+(just now|\\d+s ago)\\s+ci\\s+bitaxe\\s+hw$`, 'm'));
  const cancel = await asUser(['job', 'cancel', a.job.id, '--json']);
  t.equal(cancel.code, 0, cancel.stderr);
  t.same(JSON.parse(cancel.stdout), { id: a.job.id, cancel_requested: true });
  await waitFor(async () => (await jobState(a.job.id)).cancelled, 'the job to be cancelled');
  t.match((await asUser(['job', 'show', a.job.id])).stdout, /^task 0\s+cancelled\s+hw$/m);

  const b = await waitingRun(t, {}, ['--cancel-on-interrupt']);
  b.cli.child.kill('SIGINT');
  t.equal(await b.cli.exited, 130);
  t.match(await jobState(b.job.id), { cancelled: true });
  // And CI=true can be overridden.
  const c = await waitingRun(t, { CI: 'true' }, ['--no-cancel-on-interrupt']);
  c.cli.child.kill('SIGTERM');
  t.equal(await c.cli.exited, 130);
  t.match(await jobState(c.job.id), { cancelled: false });
  await asUser(['job', 'cancel', c.job.id]);
});

t.test('exit statuses: 1 failed work, 2 usage, 3 unreachable or failing server, 4 refused token', async (t) => {
  const unreachable = await asUser(['job', 'list'], { MVM_URL: 'http://127.0.0.1:9' });
  t.equal(unreachable.code, 3, unreachable.stderr);
  t.match(unreachable.stderr, /cannot reach the job server/);
  const refused = await asUser(['job', 'list'], { MVM_TOKEN: 'not-a-token' });
  t.equal(refused.code, 4, refused.stderr);
  const adminWithUser = await runMvm(['admin', 'target', 'list'], { env: { ...baseEnv, MVM_ADMIN_TOKEN: userToken } });
  t.equal(adminWithUser.code, 4, adminWithUser.stderr);
  const usage = await asUser(['job', 'run', '--target', 'bitaxe']);
  t.equal(usage.code, 2, usage.stderr);
  const unknown = await asUser(['job', 'show', '01JZZZZZZZZZZZZZZZZZZZZZZZ']);
  t.equal(unknown.code, 1, unknown.stderr);
});

t.test('nothing left running', async (t) => {
  t.equal(await server.stop(), 0);
  t.equal(await stopAllMvm(), 0);
});

// Acceptance of `mvm job` and `mvm admin`: the real CLI (child processes) against the real
// `mvm server` (child process), with a scripted factory + agent doing the work, and every request
// of both passing through the conformance proxy, which checks it against the buildomat spec.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, JobEvent, JobOutput, Target } from '../../shared/api/types.js';
import { startConformanceProxy } from '../helpers/conformance-proxy.js';
import { runMvm, startMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { ScriptedWorker } from './scripted-worker.js';

const dir = tempDir(t, 'mvm-cli-');
const server = await startServer(t, { env: { MVM_LOG_LEVEL: 'warn' } });
const adminToken = server.adminToken;
t.teardown(() => stopAllMvm());
const proxy = await startConformanceProxy(server.url);
t.teardown(() => proxy.close());

// No profile from the person running the tests may leak in.
writeFileSync(join(dir, 'no-profile.toml'), '');
const baseEnv = {
  MVM_PROFILE: join(dir, 'no-profile.toml'),
  MVM_URL: proxy.url,
  MVM_TOKEN: '',
  MVM_ADMIN_TOKEN: '',
  MVM_LOG_LEVEL: 'warn',
};
const asAdmin = (args: string[]) => runMvm(args, { env: { ...baseEnv, MVM_ADMIN_TOKEN: adminToken } });
let userToken = '';
const asUser = (args: string[]) => runMvm(args, { env: { ...baseEnv, MVM_TOKEN: userToken } });
const runAsUser = (args: string[]) => startMvm(args, { env: { ...baseEnv, MVM_TOKEN: userToken } });

let targetId = '';
let factoryToken = '';

t.test('mvm admin: targets, redirects, factories, users', async (t) => {
  const created = await asAdmin(['admin', 'target', 'create', 'bitaxe', '--desc', 'Bitaxe bench', '--json']);
  t.equal(created.code, 0, created.stderr);
  targetId = JSON.parse(created.stdout).id;
  t.match(targetId, /^\S+$/);
  const old = await asAdmin(['admin', 'target', 'create', 'bitaxe-old']);
  t.equal(old.code, 0, old.stderr);
  t.match(old.stdout.trim(), /^\S+$/, 'prints the id alone');

  const redirect = await asAdmin(['admin', 'target', 'redirect', 'bitaxe-old', '--to', 'bitaxe']);
  t.equal(redirect.code, 0, redirect.stderr);
  t.match(redirect.stderr, /bitaxe-old now redirects to bitaxe/);
  const list = await asAdmin(['admin', 'target', 'list', '--json']);
  const targets = JSON.parse(list.stdout) as Target[];
  t.equal(targets.find((x) => x.name === 'bitaxe-old')?.redirect, targetId);
  const table = await asAdmin(['admin', 'target', 'list']);
  t.match(table.stdout, /bitaxe-old\s+bitaxe\s/);

  const factory = await asAdmin(['admin', 'factory', 'create', 'lab']);
  t.equal(factory.code, 0, factory.stderr);
  factoryToken = factory.stdout.trim();
  t.match(factoryToken, /^\S{16,}$/, 'the new token alone on stdout');
  t.match(factory.stderr, /created factory lab \(id \S+\)/);
  t.notOk(factory.stderr.includes(factoryToken), 'the token is printed once, on stdout');
  t.equal((await asAdmin(['admin', 'factory', 'disable', 'lab'])).code, 0);
  const disabled = JSON.parse((await asAdmin(['admin', 'factory', 'list', '--json'])).stdout);
  t.match(disabled, [{ name: 'lab', enable: false }]);
  t.equal((await asAdmin(['admin', 'factory', 'enable', disabled[0].id])).code, 0, 'by id too');
  t.match(JSON.parse((await asAdmin(['admin', 'factory', 'list', '--json'])).stdout), [{ name: 'lab', enable: true }]);

  const user = await asAdmin(['admin', 'user', 'create', 'alice', '--json']);
  t.equal(user.code, 0, user.stderr);
  const u = JSON.parse(user.stdout);
  t.match(u, { name: 'alice', id: String, token: String });
  userToken = u.token;
});

t.test('job run --wait: events stream live, inputs reach the worker, outputs come back, exit 0', async (t) => {
  const work = tempDir(t);
  const script = join(work, 'smoke.sh');
  writeFileSync(script, '#!/bin/bash\necho "testing $MODE"\n');
  // Over two 5 MiB chunks, to exercise the chunked upload.
  const firmware = randomBytes(11 * 1024 * 1024 + 123);
  writeFileSync(join(work, 'fw.bin'), firmware);
  const outDir = join(work, 'out');
  const cli = runAsUser([
    'job',
    'run',
    '--target',
    'bitaxe',
    '--script',
    script,
    '--input',
    join(work, 'fw.bin'),
    '--env',
    'MODE=fast',
    '--tag',
    'pr=42',
    '--wait',
    '--outputs',
    outDir,
  ]);

  const worker = new ScriptedWorker(server, proxy.url, factoryToken);
  t.teardown(() => worker.destroy());
  const job = await worker.takeJob(targetId);
  t.equal(job.name, 'smoke');
  t.equal(job.tasks.length, 1);
  t.equal(job.tasks[0].script, readFileSync(script, 'utf8'));
  t.equal(job.tasks[0].env.MODE, 'fast');
  t.same(
    job.output_rules.map((r) => r.rule),
    ['/work/output/**/*'],
  );
  t.same(
    job.inputs.map((i) => i.name),
    ['fw.bin'],
  );
  const got = await worker.input(job.id, job.inputs[0].id);
  t.ok(got.equals(firmware), 'the worker downloads exactly the uploaded input');
  await cli.waitForLine(new RegExp(`submitted job ${job.id}`));

  await worker.append(job.id, [{ stream: 'task', payload: 'starting task 0: "smoke"', task: 0 }]);
  await worker.append(job.id, [{ stream: 'stdout', payload: 'testing fast', task: 0 }]);
  // The CLI shows the event while the job is still running: nothing is completed until it has.
  await cli.waitForLine(/stdout\.0\s+testing fast/);
  t.equal(cli.child.exitCode, null, 'still following');
  await worker.append(job.id, [{ stream: 'stderr', payload: 'a warning \x1b[31m', task: 0 }]);
  await cli.waitForLine(/stderr\.0\s+a warning \\x1b\[31m/);

  await worker.output(job.id, '/work/output/report.txt', Buffer.from('hashrate ok\n'));
  await worker.append(job.id, [{ stream: 'task', payload: 'process exited: duration 5 ms, exit code 0', task: 0 }]);
  await worker.completeTask(job.id, 0, false);
  await worker.completeJob(job.id, false);

  t.equal(await cli.exited, 0, cli.stderr.join('\n'));
  t.match(cli.stderr.join('\n'), /uploaded input fw\.bin \(11 MiB\)/);
  t.match(cli.stderr.join('\n'), new RegExp(`job ${job.id} completed`));
  t.equal(readFileSync(join(outDir, 'work/output/report.txt'), 'utf8'), 'hashrate ok\n');
  const lines = cli.stdout.filter((l) => /^\d\d:\d\d:\d\d /.test(l));
  t.match(
    lines.filter((l) => !/ control /.test(l)),
    [/task\.0\s+starting task 0/, /stdout\.0\s+testing fast/, /stderr\.0/, /task\.0\s+process exited/],
  );

  // The other job commands see the same job.
  const show = await asUser(['job', 'show', job.id, '--json']);
  t.match(JSON.parse(show.stdout) as Job, { id: job.id, state: 'completed', cancelled: false, tags: { pr: '42' } });
  t.match((await asUser(['job', 'show', job.id])).stdout, /state\s+completed/);
  const list = await asUser(['job', 'list', '--json']);
  t.ok((JSON.parse(list.stdout) as { id: string }[]).some((j) => j.id === job.id));
  t.match(
    (await asUser(['job', 'list'])).stdout,
    new RegExp(`${job.id}\\s+completed\\s+(just now|\\d+[sm] ago)\\s+alice\\s+bitaxe\\s+smoke`),
  );
  const log = await asUser(['job', 'log', job.id, '--json']);
  const events = log.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JobEvent);
  t.ok(events.some((e) => e.payload === 'testing fast'));
  t.same(
    events.map((e) => e.seq),
    [...events.map((e) => e.seq)].sort((a, b) => a - b),
    'in order',
  );
  const outs = JSON.parse((await asUser(['job', 'outputs', job.id, '--json'])).stdout) as JobOutput[];
  t.match(outs, [{ path: '/work/output/report.txt', size: 12 }]);
  const again = join(work, 'again');
  t.equal((await asUser(['job', 'outputs', job.id, '--download', again])).code, 0);
  t.equal(readFileSync(join(again, 'work/output/report.txt'), 'utf8'), 'hashrate ok\n');
});

t.test('job run --wait --json on a failing job (through a redirected target): JSON events, exit 1', async (t) => {
  const work = tempDir(t);
  const file = join(work, 'hw.sh');
  writeFileSync(
    file,
    '#!/bin/bash\n#: name = "hw-check"\n#: variety = "basic"\n#: target = "bitaxe-old"\n#: output_rules = ["/work/logs/*"]\nexit 3\n',
  );
  const cli = runAsUser(['job', 'run', '--file', file, '--wait', '--json']);
  const worker = new ScriptedWorker(server, proxy.url, factoryToken);
  t.teardown(() => worker.destroy());
  const job = await worker.takeJob(targetId);
  t.equal(job.name, 'hw-check');
  t.same(
    job.output_rules.map((r) => r.rule),
    ['/work/logs/*'],
  );
  await worker.append(job.id, [{ stream: 'stderr', payload: 'device did not answer', task: 0 }]);
  await cli.waitForLine(/"payload":"device did not answer"/);
  await worker.completeTask(job.id, 0, true);
  await worker.completeJob(job.id, true);
  t.equal(await cli.exited, 1);
  for (const line of cli.stdout.slice(0, -1))
    t.match(JSON.parse(line), { seq: Number, stream: String, payload: String, time: String });
  t.match(JSON.parse(cli.stdout[cli.stdout.length - 1]), { id: job.id, state: 'failed', outputs: [], checks: [] });
  t.match(cli.stderr.join('\n'), new RegExp(`job ${job.id} failed`));
});

t.test('cancel: the job ends failed and cancelled; log --follow exits 1; a second cancel is refused', async (t) => {
  const work = tempDir(t);
  const script = join(work, 'idle.sh');
  writeFileSync(script, 'sleep 1000\n');
  const submitted = await asUser(['job', 'run', '--target', 'bitaxe', '--script', script, '--json']);
  t.equal(submitted.code, 0, submitted.stderr);
  const { id } = JSON.parse(submitted.stdout);
  const follower = runAsUser(['job', 'log', id, '--follow']);
  const cancel = await asUser(['job', 'cancel', id]);
  t.equal(cancel.code, 0, cancel.stderr);
  t.equal(await follower.exited, 1, follower.stderr.join('\n'));
  t.match(follower.stderr.join('\n'), new RegExp(`job ${id} cancelled`));
  t.match(JSON.parse((await asUser(['job', 'show', id, '--json'])).stdout), { state: 'failed', cancelled: true });
  const twice = await asUser(['job', 'cancel', id]);
  t.equal(twice.code, 1);
  t.match(twice.stderr, /mvm: error: cannot cancel the job: .*complete/);
});

t.test('bad inputs get clear messages and no token is ever printed', async (t) => {
  const work = tempDir(t);
  const script = join(work, 's.sh');
  writeFileSync(script, 'true\n');

  const badToken = await runMvm(['job', 'list'], { env: { ...baseEnv, MVM_TOKEN: 'not-a-real-token' } });
  t.equal(badToken.code, 4, 'a refused token exits 4');
  t.match(badToken.stderr, /refused the user token from MVM_TOKEN/);
  t.match(badToken.stderr, /hint: .*MVM_TOKEN/);
  t.notMatch(badToken.stderr, /not-a-real-token/);

  const userAsAdmin = await runMvm(['admin', 'target', 'list'], { env: { ...baseEnv, MVM_ADMIN_TOKEN: userToken } });
  t.equal(userAsAdmin.code, 4);
  t.match(userAsAdmin.stderr, /admin token from MVM_ADMIN_TOKEN/);
  t.match(userAsAdmin.stderr, /admin commands need the admin token/);
  t.notOk(userAsAdmin.stderr.includes(userToken));

  const noToken = await runMvm(['admin', 'user', 'create', 'bob'], { env: baseEnv });
  t.equal(noToken.code, 2);
  t.match(noToken.stderr, /no admin token given/);

  const unknown = await asUser(['job', 'show', '01JZZZZZZZZZZZZZZZZZZZZZZZ']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no job 01JZZZZZZZZZZZZZZZZZZZZZZZ on /);

  const missing = await asUser(['job', 'run', '--target', 'bitaxe', '--script', join(work, 'nope.sh')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read the script file .*nope\.sh: no such file/);

  const unreachable = await runMvm(['job', 'list'], {
    env: { ...baseEnv, MVM_URL: 'http://127.0.0.1:9', MVM_TOKEN: 'x' },
  });
  t.equal(unreachable.code, 3, 'an unreachable server exits 3');
  t.match(unreachable.stderr, /cannot reach the job server at http:\/\/127\.0\.0\.1:9/);

  const noTarget = await asUser(['job', 'run', '--target', 'no-such-target', '--script', script]);
  t.equal(noTarget.code, 1);
  t.match(noTarget.stderr, /mvm: error: cannot submit the job: .*no-such-target/);
  t.match(noTarget.stderr, /hint: check --target/);

  // The profile: used when flags and environment leave the token open; refused when others can read it.
  const profileFile = join(work, 'profile.toml');
  writeFileSync(profileFile, `url = "${proxy.url}"\ntoken = "${userToken}"\n`, { mode: 0o644 });
  chmodSync(profileFile, 0o644);
  const open = await runMvm(['job', 'list'], { env: { ...baseEnv, MVM_URL: '', MVM_PROFILE: profileFile } });
  t.equal(open.code, 1);
  t.match(open.stderr, /holds a token but every user on this machine can read it/);
  t.match(open.stderr, new RegExp(`hint: run: chmod 600 ${profileFile}`));
  t.notOk(open.stderr.includes(userToken));
  chmodSync(profileFile, 0o600);
  const viaProfile = await runMvm(['job', 'list', '--json'], {
    env: { ...baseEnv, MVM_URL: '', MVM_PROFILE: profileFile },
  });
  t.equal(viaProfile.code, 0, viaProfile.stderr);

  const badArgs = await asUser(['job', 'run', '--script', script, '--target', 'bitaxe', '--env', 'oops']);
  t.equal(badArgs.code, 2);
  t.match(badArgs.stderr, /--env "oops" is not KEY=VALUE/);
});

t.test('every request and response conformed to the buildomat spec', async (t) => {
  t.same(proxy.violations, []);
  const seen = proxy.seen();
  for (const op of [
    'target_create',
    'targets_list',
    'target_redirect',
    'factory_create',
    'factories_list',
    'factory_enable',
    'factory_disable',
    'user_create',
    'job_submit',
    'job_upload_chunk',
    'job_add_input',
    'job_get',
    'job_events_get',
    'jobs_list',
    'job_outputs_get',
    'job_output_download',
    'job_cancel',
    'quota',
  ]) {
    t.ok(seen.has(op), `${op} exercised`);
  }
});

t.test('nothing is left running: every CLI process has exited', async (t) => {
  t.equal(await server.stop(), 0, 'the server stops cleanly');
  // stopAllMvm stops and counts whatever is still running.
  t.equal(await stopAllMvm(), 0, 'no other mvm process was still running');
});

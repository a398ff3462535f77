// `mvm testbeds …` and `mvm job run --spec` as real processes against a real factory (its API) and
// job server: list, show, reserve, release, user create, why; a test definition placed on the one
// testbed whose devices satisfy it, and one no testbed can satisfy refused before it is submitted.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMvm, startMvm, waitFor } from '../helpers/mvm-process.js';
import { factoryApi, startFactory, startLab, type Lab, type LabApi } from '../factory/fixture.js';

let lab: Lab;
let api: LabApi;
let env: Record<string, string>;

const mvm = (args: string[], extra: Record<string, string> = {}) => runMvm(args, { env: { ...env, ...extra } });

t.before(async () => {
  lab = await startLab(t, {
    realAgent: true,
    testbeds: [
      {
        name: 'gamma-fan',
        targets: ['bitaxe'],
        attributes: ['fan:stock'],
        deviceKeys: ['address = "http://127.0.0.1:18690"', 'software = "v2.9.0"'],
      },
      { name: 'gamma-plain', targets: ['bitaxe'] },
      { name: 'supra-1', targets: ['bitaxe'], hardware: '401' },
    ],
  });
  const p = await startFactory(lab);
  t.teardown(() => p.stop());
  api = await factoryApi(p, lab.dbFile);
  // An empty profile: everything comes from the environment.
  const profile = join(lab.dir, 'profile.toml');
  writeFileSync(profile, '', { mode: 0o600 });
  env = {
    MVM_LAB_URL: api.url,
    MVM_LAB_TOKEN: api.adminToken,
    MVM_URL: lab.srv.url,
    MVM_TOKEN: lab.userToken,
    MVM_PROFILE: profile,
  };
  await waitFor(
    async () => (await api.call('GET', '/v1/testbeds')).body.every((x: { health: string }) => x.health === 'good'),
    'testbeds checked',
  );
});

t.test('list, show, reserve, release, and user create', async (t) => {
  const list = await mvm(['testbeds', 'list', '--hardware', '601']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /TESTBED\s+STATE\s+HEALTH/);
  t.match(list.stdout, /gamma-fan\s+free\s+good/);
  t.notMatch(list.stdout, /supra-1/);
  // --software compares versions as test definitions do: 2.9.0, v2.9.0 and esp-miner-2.9.0 are one.
  for (const v of ['v2.9.0', '2.9.0', 'esp-miner-2.9.0', 'ESP-Miner-v2.9.0']) {
    const r = await mvm(['testbeds', 'list', '--software', v, '--json']);
    t.equal(r.code, 0, r.stderr);
    t.same(
      (JSON.parse(r.stdout) as Array<{ name: string }>).map((x) => x.name),
      ['gamma-fan'],
      `--software ${v}`,
    );
  }
  t.same(JSON.parse((await mvm(['testbeds', 'list', '--software', '2.9.1', '--json'])).stdout), []);
  const json = JSON.parse((await mvm(['testbeds', 'list', '--attribute', 'fan:stock', '--json'])).stdout);
  t.same(
    json.map((x: { name: string }) => x.name),
    ['gamma-fan'],
  );

  const user = await mvm(['testbeds', 'user', 'create', 'dana']);
  t.equal(user.code, 0, user.stderr);
  const token = user.stdout.trim().split('\n').pop()!;
  t.match(token, /^[A-Za-z0-9]{64}$/, 'the token is printed once, on its own line');
  const dana = { MVM_LAB_TOKEN: token };

  const r = await mvm(['testbeds', 'reserve', 'supra-1', '--ttl', '30m', '--reason', 'fan noise'], dana);
  t.equal(r.code, 0, r.stderr);
  t.match(
    r.stdout,
    /reserved supra-1 for dana until .*\n  to use its devices with mvm runner: export MVM_LOCK_CREDENTIAL=\S+\n  release it with: mvm testbeds release supra-1/,
  );
  const show = await mvm(['testbeds', 'show', 'supra-1']);
  t.match(show.stdout, /state:\s+reserved \(reserved by dana until .* \("fan noise"\)\)/);
  t.match(show.stdout, /reserved: dana reserved it for 30m: fan noise/);
  const other = await mvm(['testbeds', 'release', 'supra-1']);
  t.equal(other.code, 4, 'the admin without --force is not the owner: refused (403), exit 4');
  t.match(other.stderr, /mvm: error: cannot release supra-1: testbed supra-1 is reserved by dana, not by admin/);
  t.match(other.stderr, /hint: only its owner can renew or release it; an admin can release it with --force/);
  const rel = await mvm(['testbeds', 'release', 'supra-1'], dana);
  t.equal(rel.code, 0);
  t.match(rel.stdout, /released supra-1 \(it was reserved by dana\)/);

  const none = await mvm(['testbeds', 'reserve', 'no-such']);
  t.equal(none.code, 1);
  t.match(none.stderr, /no testbed named "no-such"/);
  const noUrl = await mvm(['testbeds', 'list'], { MVM_LAB_URL: '' });
  t.equal(noUrl.code, 2);
  t.match(noUrl.stderr, /no factory API URL given\n  hint: pass --lab-url/);
  const bad = await mvm(['testbeds', 'list'], { MVM_LAB_TOKEN: 'wrong' });
  t.equal(bad.code, 4);
  t.match(bad.stderr, /refused the token from MVM_LAB_TOKEN: invalid token/);
});

t.test('why: a queued job, its testbeds, and what holds each', async (t) => {
  for (const tb of ['gamma-fan', 'gamma-plain', 'supra-1'])
    t.equal(
      (await api.call('POST', `/v1/testbeds/${tb}/reservation`, { body: { ttl: '5m', reason: 'why test' } })).status,
      201,
    );
  await api.call('POST', '/v1/testbeds/supra-1/maintenance', { body: { reason: 'reflow' } });
  const job = await lab.submit('bitaxe', 'echo hi');
  const why = await mvm(['testbeds', 'why', job]);
  t.equal(why.code, 0, why.stderr);
  t.match(why.stdout, new RegExp(`job ${job} is queued since .* for target bitaxe: 3 testbeds serve it; none is free`));
  t.match(why.stdout, /gamma-fan: reserved: reserved by admin until .*"why test"/);
  t.match(why.stdout, /supra-1: maintenance: maintenance by admin: reflow; reserved: /);
  // Following the queued job is not silent: it says why the job waits, and again when that changes.
  const follower = startMvm(['job', 'log', job, '--follow'], { env });
  t.teardown(() => follower.stop());
  await follower.waitForLine(
    new RegExp(`^mvm: job ${job} is queued for target bitaxe: 3 testbeds serve it; none is free$`),
  );
  await follower.waitForLine(/^ {2}supra-1: maintenance: maintenance by admin: reflow; reserved: /);
  await api.call('DELETE', '/v1/testbeds/supra-1/maintenance');
  await follower.waitForLine(/^ {2}supra-1: unhealthy: health unknown \(back from maintenance/, 30_000);
  for (const tb of ['gamma-fan', 'gamma-plain', 'supra-1']) await api.call('DELETE', `/v1/testbeds/${tb}/reservation`);
  await lab.waitJob(job, ['completed']);
  t.equal(await follower.exited, 0, follower.stderr.join('\n'));
  // Said once, and again only when the reason changed.
  const blocks: string[] = [];
  for (const l of follower.stderr) {
    if (l.startsWith(`mvm: job ${job} is queued`)) blocks.push(l);
    else if (l.startsWith('  ') && blocks.length) blocks[blocks.length - 1] += `\n${l}`;
  }
  t.ok(blocks.length >= 2, 'said again when the reason changed');
  t.ok(
    blocks.every((b, i) => i === 0 || b !== blocks[i - 1]),
    'never the same explanation twice in a row',
  );
  const after = await mvm(['testbeds', 'why', job]);
  t.match(after.stdout, /is not waiting: it has completed/);
  const unknown = await mvm(['testbeds', 'why', '01JAAAAAAAAAAAAAAAAAAAAAAA']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no job 01JAAAAAAAAAAAAAAAAAAAAAAA/);
});

t.test('reserve --wait queues for a taken testbed; check --wait waits for the verdict', async (t) => {
  const user = await mvm(['testbeds', 'user', 'create', 'erin']);
  t.equal(user.code, 0, user.stderr);
  const erin = { MVM_LAB_TOKEN: user.stdout.trim().split('\n').pop()! };
  t.equal((await mvm(['testbeds', 'reserve', 'gamma-plain', '--ttl', '10m', '--reason', 'bench work'], erin)).code, 0);

  const bare = await mvm(['testbeds', 'reserve', 'gamma-plain', '--wait', '--timeout', '5']);
  t.equal(bare.code, 2);
  t.match(bare.stderr, /--timeout "5": 5 what\?/);
  const short = await mvm(['testbeds', 'reserve', 'gamma-plain', '--wait', '--timeout', '1s']);
  t.equal(short.code, 1);
  t.match(short.stderr, /gamma-plain did not become free within 1s: .*erin/);

  const waiting = startMvm(['testbeds', 'reserve', 'gamma-plain', '--wait', '--timeout', '2m', '--ttl', '5m'], { env });
  t.teardown(() => waiting.stop());
  await waiting.waitForLine(/^mvm: gamma-plain is taken \(.*erin.*\); waiting for it until /);
  t.equal(waiting.child.exitCode, null, 'still waiting');
  t.equal((await mvm(['testbeds', 'release', 'gamma-plain'], erin)).code, 0);
  t.equal(await waiting.exited, 0, waiting.stderr.join('\n'));
  t.match(waiting.stdout.join('\n'), /reserved gamma-plain for admin until /);
  t.equal(waiting.stderr.filter((l) => l.includes('is taken')).length, 1, 'said once while nothing changed');
  t.equal((await mvm(['testbeds', 'release', 'gamma-plain'])).code, 0);

  const checked = await mvm(['testbeds', 'check', 'gamma-fan', '--wait', '--timeout', '2m', '--json']);
  t.equal(checked.code, 0, checked.stderr);
  t.match(checked.stderr, /a health check of gamma-fan is due now; waiting for its verdict/);
  t.match(JSON.parse(checked.stdout), { name: 'gamma-fan', health: 'good' });
});

t.test('job run --spec: placed by its devices; an impossible one refused before submission', async (t) => {
  const dir = join(lab.dir, 'spec');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'hello.sh'),
    'echo "testing on $MVM_DEVICE_0_NAME of $(basename "$(dirname "$MVM_TESTBED")")"\ncat "$MVM_TESTBED" | grep -o \'"testbed": "[^"]*"\'\n',
  );
  writeFileSync(
    join(dir, 'fan.yaml'),
    'name: fan-test\nscript: hello.sh\ndevices:\n  - hardware: "601"\n    attributes: ["fan:stock"]\n',
  );
  const run = await mvm(['job', 'run', '--spec', join(dir, 'fan.yaml'), '--wait', '--outputs', join(lab.dir, 'out')]);
  t.equal(run.code, 0, run.stderr);
  t.match(
    run.stderr,
    /fan\.yaml needs 601 \[fan:stock\]: target req-[0-9a-f]{16} \(testbeds that can run it: gamma-fan\)/,
  );
  t.match(run.stdout, /"testbed": "gamma-fan"/, 'it ran on the one testbed that has the fan');
  const id = /submitted job (\S+)/.exec(run.stderr)![1];
  const j = await lab.job(id);
  t.match(j, {
    target: /^req-/,
    state: 'completed',
    tags: { 'mvm.spec': 'fan.yaml', 'mvm.requirement': '601 [fan:stock]' },
  });

  writeFileSync(join(dir, 'two.yaml'), 'script: hello.sh\ndevices:\n  - hardware: "601"\n  - hardware: nano3s\n');
  const jobCount = async () =>
    (await lab.user.get<{ items: unknown[] }>('/1/jobs', { query: { limit: 1000 } })).items.length;
  const before = await jobCount();
  const no = await mvm(['job', 'run', '--spec', join(dir, 'two.yaml')]);
  t.equal(no.code, 1);
  t.match(
    no.stderr,
    /mvm: error: cannot find a testbed for .*two\.yaml: no testbed of this factory can ever run a job needing 601 \+ nano3s/,
  );
  t.match(no.stderr, /gamma-fan: spec device #2 \(hardware nano3s, attributes \[\]\) matches no testbed device/);
  t.match(no.stderr, /hint: change the test definition's devices/);
  t.equal(await jobCount(), before, 'nothing was submitted');

  const both = await mvm(['job', 'run', '--spec', join(dir, 'fan.yaml'), '--target', 'bitaxe']);
  t.equal(both.code, 2);
  t.match(both.stderr, /--spec and --target both given/);
  writeFileSync(join(dir, 'escape.yaml'), 'script: ../../etc/x.sh\ndevices:\n  - hardware: "601"\n');
  const esc = await mvm(['job', 'run', '--spec', join(dir, 'escape.yaml')]);
  t.not(esc.code, 0);
});

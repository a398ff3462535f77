// `mvm testbeds` across two labs (two real factories, each with its API, against one job server):
// a profile naming both (lab_url as "default", [lab.room2]); list with a LAB column and NAME@LAB
// where a name repeats; show / reserve / release found in whichever lab has the testbed, NAME@LAB
// accepted; `why` asks both labs and says which could take the job or which it waits for.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMvm } from '../helpers/mvm-process.js';
import { factoryApi, type LabApi } from '../factory/fixture.js';
import { startMultiLab, type MultiLab } from '../factory/multi-lab.js';

let lab: MultiLab;
let apis: Record<string, LabApi>;
let env: Record<string, string>;
let userToken: string;
const mvm = (args: string[], extra: Record<string, string> = {}) => runMvm(args, { env: { ...env, ...extra } });

t.before(async () => {
  lab = await startMultiLab(t, {
    hosts: {
      a: [
        { name: 'bench-1', targets: ['shared'] },
        { name: 'gamma-a', targets: ['shared'] },
      ],
      b: [
        { name: 'bench-1', targets: ['shared'] },
        { name: 'supra-b', targets: ['only-b'], hardware: '401' },
      ],
    },
  });
  apis = {};
  for (const h of lab.hosts.values()) apis[h.name] = await factoryApi(await h.start(), h.dbFile);
  const profile = join(lab.dir, 'profile.toml');
  writeFileSync(
    profile,
    [
      `lab_url = "${apis.a.url}"`,
      `lab_token = "${apis.a.adminToken}"`,
      '',
      '[lab.room2]',
      `url = "${apis.b.url}"`,
      `token = "${apis.b.adminToken}"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  userToken = await lab.srv.createUser('why');
  env = { MVM_PROFILE: profile, MVM_URL: lab.srv.url, MVM_TOKEN: userToken, MVM_LAB_URL: '', MVM_LAB_TOKEN: '' };
});

t.test('list: every lab, a LAB column, NAME@LAB where a name repeats', async (t) => {
  const list = await mvm(['testbeds', 'list']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^TESTBED\s+LAB\s+STATE\s+HEALTH/);
  t.match(list.stdout, /bench-1@default\s+default\s+free/);
  t.match(list.stdout, /bench-1@room2\s+room2\s+free/);
  t.match(list.stdout, /\ngamma-a\s+default\s+free/);
  t.match(list.stdout, /\nsupra-b\s+room2\s+free/);
  const json = JSON.parse((await mvm(['testbeds', 'list', '--json'])).stdout) as Array<{ name: string; lab: string }>;
  t.same(json.map((x) => `${x.name}@${x.lab}`).sort(), [
    'bench-1@default',
    'bench-1@room2',
    'gamma-a@default',
    'supra-b@room2',
  ]);
  const one = await mvm(['testbeds', 'list', '--lab', 'room2']);
  t.equal(one.code, 0, one.stderr);
  t.notMatch(one.stdout, /LAB|gamma-a/, 'one lab: no LAB column, only its testbeds');
  const devices = await mvm(['testbeds', 'devices', '--hardware', '401']);
  t.match(devices.stdout, /supra-b\s+room2\s+miner\s+axeos\s+401/);
  const none = await mvm(['testbeds', 'list', '--lab', 'attic']);
  t.equal(none.code, 2);
  t.match(none.stderr, /no lab named "attic" in .*profile\.toml\n  hint: the labs are default, room2/);
});

t.test('show, reserve, release: the lab that has the testbed; NAME@LAB when several do', async (t) => {
  const amb = await mvm(['testbeds', 'show', 'bench-1']);
  t.equal(amb.code, 2);
  t.match(
    amb.stderr,
    /testbed "bench-1" is in several labs: default, room2\n  hint: say which: bench-1@default or bench-1@room2/,
  );
  const show = await mvm(['testbeds', 'show', 'bench-1@room2']);
  t.equal(show.code, 0, show.stderr);
  t.match(
    show.stdout,
    new RegExp(`^bench-1@room2\\n.*\\n?  lab:     room2 \\(${apis.b.url.replace(/[.]/g, '\\.')}\\)`, 'm'),
  );

  const r = await mvm(['testbeds', 'reserve', 'supra-b', '--ttl', '10m', '--reason', 'fan test']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /reserved supra-b for admin until .*\n(.*\n)?  release it with: mvm testbeds release supra-b/);
  t.equal((await apis.b.call('GET', '/v1/testbeds/supra-b')).body.state, 'reserved', 'reserved in the lab that has it');
  const r2 = await mvm(['testbeds', 'reserve', 'bench-1@default', '--ttl', '10m']);
  t.equal(r2.code, 0, r2.stderr);
  t.match(r2.stdout, /release it with: mvm testbeds release bench-1@default/);
  t.equal((await apis.a.call('GET', '/v1/testbeds/bench-1')).body.state, 'reserved');
  t.equal((await apis.b.call('GET', '/v1/testbeds/bench-1')).body.state, 'free', "the other lab's bench-1 untouched");
  const renew = await mvm(['testbeds', 'renew', 'bench-1@default', '--ttl', '20m']);
  t.equal(renew.code, 0, renew.stderr);
  for (const name of ['supra-b', 'bench-1@default']) {
    const rel = await mvm(['testbeds', 'release', name]);
    t.equal(rel.code, 0, rel.stderr);
    t.match(rel.stdout, new RegExp(`released ${name} \\(it was reserved by admin\\)`));
  }
  const missing = await mvm(['testbeds', 'show', 'nope']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no testbed named "nope" in any lab \(default, room2\)/);
  const badLab = await mvm(['testbeds', 'show', 'bench-1@attic']);
  t.match(badLab.stderr, /no lab named "attic" \(in bench-1@attic\)/);
});

t.test('why asks every lab: which could take the job, or which it waits for', async (t) => {
  // Held, no factory leases it: both labs' free testbeds could take it.
  await lab.srv.admin.post('/0/control/hold');
  const shared = await lab.srv.submitJob(userToken, { target: 'shared', script: 'echo hi' });
  const free = await mvm(['testbeds', 'why', shared]);
  t.equal(free.code, 0, free.stderr);
  t.match(free.stdout, /lab default: bench-1, gamma-a are free/);
  t.match(free.stdout, /bench-1@room2: free/);
  t.match(free.stdout, /could take it now: lab default, lab room2/);
  const json = JSON.parse((await mvm(['testbeds', 'why', shared, '--json'])).stdout);
  t.same(
    [json.served_by, json.free_in],
    [
      ['default', 'room2'],
      ['default', 'room2'],
    ],
  );

  await apis.b.call('POST', '/v1/testbeds/supra-b/reservation', { body: { ttl: '5m', reason: 'why test' } });
  const onlyB = await lab.srv.submitJob(userToken, { target: 'only-b', script: 'echo hi' });
  const waits = await mvm(['testbeds', 'why', onlyB]);
  t.equal(waits.code, 0, waits.stderr);
  t.match(waits.stdout, /lab default: serves no such target/);
  t.match(waits.stdout, /supra-b@room2: reserved: /);
  t.match(waits.stdout, /it waits for a testbed of lab room2$/);
  await apis.b.call('DELETE', '/v1/testbeds/supra-b/reservation');
  for (const id of [shared, onlyB]) await lab.srv.client(userToken).post(`/0/jobs/${id}/cancel`);
  await lab.srv.admin.post('/0/control/resume');
});

t.test('a [lab.NAME] table with problems is reported with its key', async (t) => {
  const bad = join(lab.dir, 'bad.toml');
  writeFileSync(bad, '[lab.room3]\nurl = "ftp://x"\n\n[lab."a b"]\nurl = "http://x"\ntoken = "t"\ncolour = "red"\n', {
    mode: 0o600,
  });
  const r = await mvm(['testbeds', 'list'], { MVM_PROFILE: bad });
  t.not(r.code, 0);
  t.match(r.stderr, /lab\.room3\.token/);
  t.match(r.stderr, /lab\.room3\.url.*not an http\(s\) URL/);
  t.match(r.stderr, /lab\.a b.*letters, digits/);
  t.match(r.stderr, /lab\.a b\.colour.*unknown key/);
});

// Testbed health and baseline restore for real: a job server, a factory, the real agent, the
// runner, and a simulated Bitaxe (`mvm sim axeos`) as processes. A new testbed is checked before
// its first job; a job that leaves the device on another firmware and pools is followed by a
// restore that flashes the baseline back from the firmware library; a job that meets an
// unreachable device quarantines its testbed, failing checks make it bad, and once a person asks
// for a check and it passes, it takes jobs again. Health checks also run on their schedule.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../runner/firmware/image.js';
import { waitFor } from '../helpers/mvm-process.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { startOneBitaxeFactory, testbedHistory, testbedOf, type LabApi } from './fixture.js';
import { startAxeosSimProcess, type AxeosSimProcess } from '../helpers/axeos-sim-process.js';

let srv: TestServer;
let sim: AxeosSimProcess;
let simUrl: string;
let api: LabApi;
let dir: string;
let userToken: string;

const fw = (v: string) => join(dir, 'firmware', `esp-miner-${v}.bin`);
const simInfo = () => sim.info();
const simFault = (body: object) => sim.fault(body);
const testbed = () => testbedOf(api, 'gamma');
const history = () => testbedHistory(api, 'gamma');
const submit = (script: string) => srv.submitJob(userToken, { target: 'bitaxe', script, name: 'health-e2e' });
const jobState = async (id: string) => (await srv.client(userToken).get<{ state: string }>(`/0/job/${id}`)).state;

t.before(async () => {
  srv = await startServer(t, { args: ['--tick', '200ms'] });
  dir = tempDir(t, 'mvm-health-');
  mkdirSync(join(dir, 'firmware'));
  for (const v of ['v2.9.0', 'v2.10.0']) writeFileSync(fw(v), buildImage({ version: v }));
  sim = await startAxeosSimProcess(t, { firmware: 'v2.9.0', bootMs: 300 });
  simUrl = sim.url;

  userToken = await srv.createUser('tester');
  ({ api } = await startOneBitaxeFactory(t, srv, dir, {
    simUrl,
    factory: { stop_grace: '2s', firmware_dir: join(dir, 'firmware') },
    health: { window: '500ms', samples: 1, retry: '500ms', bad_after: 3, interval: '4s' },
    device: {
      software: 'v2.9.0',
      pools: [{ url: 'stratum+tcp://pool.lab:3333', user: 'lab.gamma' }],
      options: { poll_interval_ms: 200, settle_ms: 800, reboot_timeout_ms: 20000 },
    },
  }));
});

t.test(
  'a new testbed is checked (restore, then the runner health check) before its first job; checks repeat on the schedule',
  async (t) => {
    await waitFor(async () => (await testbed()).health === 'good', 'the first check to pass', 60_000);
    const h = await history();
    const started = h.findIndex((e) => e.kind === 'check-started');
    const passed = h.findIndex((e) => e.kind === 'check-passed');
    t.ok(started >= 0 && passed > started, 'check-started, then check-passed');
    t.match((await simInfo()).stratumURL, 'pool.lab', 'the first check restored the baseline pools');
    await waitFor(
      async () => (await history()).filter((e) => e.kind === 'check-passed').length >= 2,
      'a scheduled check (interval 4s)',
      30_000,
    );
  },
);

t.test('after a job changes firmware and pools, the baseline is restored before the testbed is free', async (t) => {
  const job = await submit(
    [
      'set -o errexit',
      `mvm runner flash --image ${fw('v2.10.0')} --poll-interval 200ms --settle 1s`,
      'mvm runner control pools set --pool-url stratum+tcp://elsewhere:3333 --user someone',
      'mvm runner info --json',
    ].join('\n'),
  );
  await waitFor(async () => ['completed', 'failed'].includes(await jobState(job)), 'the job', 90_000);
  t.equal(await jobState(job), 'completed');
  const inst = await waitFor(
    async () => {
      const tb = await testbed();
      if (tb.free) return (await api.call('GET', '/v1/testbeds/gamma/history?limit=50')).body.instances[0];
      return undefined;
    },
    'the testbed free again',
    90_000,
  );
  t.match(inst, { job, state: 'destroyed', restore_outcome: /^ok: / });
  t.match(inst.restore_outcome, /v2\.10\.0.*v2\.9\.0|firmware/, 'the restore flashed the baseline back');
  const info = await simInfo();
  t.equal(info.version, 'v2.9.0', 'the device runs its baseline again');
  t.match(info.stratumURL, 'pool.lab', 'with its baseline pools');
  // good, or already in its next scheduled check (interval 4s): not made unknown by the restore
  t.match((await testbed()).health, /^(good|checking)$/, 'a restore that worked leaves the testbed healthy');
  t.notOk(
    (await history()).some((e) => e.kind === 'restore-failed' || e.kind === 'health-unknown'),
    'no restore failure, no infrastructure failure',
  );
});

t.test(
  'an unreachable device: quarantined, bad after repeated failures, back after a person asks and a check passes',
  async (t) => {
    await waitFor(async () => (await testbed()).free, 'gamma free');
    t.equal((await simFault({ set: ['drop=1'] })).status, 200);
    const first = await submit('set -o errexit\nmvm runner info');
    await waitFor(async () => (await jobState(first)) === 'failed', 'the job to fail on the dead device', 60_000);
    await waitFor(
      async () => (await history()).some((e) => e.kind === 'infra-failure'),
      'the infrastructure failure recorded',
    );
    const second = await submit('echo after the repair');
    const bad = await waitFor(
      async () => {
        const tb = await testbed();
        return tb.health === 'bad' ? tb : undefined;
      },
      'three failed checks to make it bad',
      90_000,
    );
    t.match(bad, { free: false, state: 'bad', next_check_at: null, check_failures: 3, health_reason: /miner/ });
    t.equal(await jobState(second), 'queued', 'no job while it is bad');
    const h = await history();
    t.ok(h.filter((e) => e.kind === 'check-failed').length >= 2, 'failed checks journalled');
    t.match(
      h.find((e) => e.kind === 'health-unknown')?.message,
      /infrastructure failure: .*reported an infrastructure failure: miner: .*unreachable/,
    );

    t.equal((await simFault({ clear: ['*'] })).status, 200);
    const asked = await api.call('POST', '/v1/testbeds/gamma/check', { body: { reason: 'replaced the cable' } });
    t.equal(asked.status, 202);
    await waitFor(
      async () => (await jobState(second)) === 'completed',
      'the waiting job to run once the testbed is good',
      90_000,
    );
    t.ok((await history()).some((e) => e.kind === 'check-requested' && /replaced the cable/.test(e.message)));
  },
);

// The factory owns testbeds: with a real `mvm server`, `mvm factory` and `mvm fleet` reading the
// same config, the fleet reads a testbed's device at any time, refuses to change it while someone
// else holds the testbed (naming who and until when), and changes it under its own reservation,
// released right after.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { startAxeosSim } from '../../sim/index.js';
import { waitFor } from '../helpers/mvm-process.js';
import { heldScript } from '../factory/fixture.js';
import { join } from 'node:path';
import { factoryForFleet, startFleet } from './daemon-helpers.js';

t.test(
  'an action on a busy testbed is refused; on a free one it runs under a reservation that is then released',
  async (t) => {
    const sim = await startAxeosSim({ board: '601', seed: 'tb-gamma' });
    t.teardown(() => sim.close());
    const { lab, api, fleetConfig } = await factoryForFleet(t, sim.url);
    const alice = await api.call('POST', '/v1/users', { body: { name: 'alice' } });
    // The fleet reads the factory's own config, with its [fleet] and [lab] sections added.
    const config = fleetConfig();
    const fleet = await startFleet(t, config);
    await waitFor(
      async () => (await fleet.call('GET', '/api/miners/gamma-1.miner')).body.status === 'online',
      'the testbed device read by the fleet',
      30_000,
    );
    const m = (await fleet.call('GET', '/api/miners/gamma-1.miner')).body;
    t.match(m, { source: 'testbed', testbed: 'gamma-1', readOnly: true, tags: ['gamma-1'] });

    // Alice holds the testbed: reads go on, changes are refused naming her and until when.
    const held = await api.call('POST', '/v1/testbeds/gamma-1/reservation', {
      token: alice.body.token,
      body: { ttl: '1h', reason: 'fan test' },
    });
    t.equal(held.status, 201);
    t.equal(
      (await fleet.call('GET', '/api/miners/gamma-1.miner/telemetry?refresh=true')).status,
      200,
      'a read needs no reservation',
    );
    const before = sim.device.settings.frequency;
    const refused = await fleet.call('POST', '/api/miners/gamma-1.miner/mode', { body: { mode: 'eco' } });
    t.equal(refused.status, 409);
    t.match(refused.body, {
      error_code: 'TestbedBusy',
      testbed: 'gamma-1',
      holder: { kind: 'reservation', owner: 'alice', expiresAt: held.body.expires_at },
    });
    t.match(
      refused.body.message,
      new RegExp(
        `testbed gamma-1 is reserved by alice until ${held.body.expires_at.replace(/[.]/g, '\\.')} \\("fan test"\\): the fleet changes a testbed's device only under its own reservation`,
      ),
    );
    t.equal(sim.device.settings.frequency, before, 'the device was not touched');
    const ev = (await fleet.call('GET', '/api/dashboard/events/recent?miner=gamma-1.miner&kind=refused')).body;
    t.match(ev[0], {
      kind: 'refused',
      level: 'warn',
      actor: 'admin',
      message: /mode eco on gamma-1\.miner refused: testbed gamma-1 is reserved by alice/,
    });
    const cli = await fleet.cli(['mode', 'gamma-1.miner', 'eco']);
    t.equal(cli.code, 1);
    t.match(cli.stderr, /reserved by alice until/);

    // Free again: the same action runs under the fleet's reservation, released after.
    t.equal((await api.call('DELETE', '/v1/testbeds/gamma-1/reservation', { token: alice.body.token })).status, 200);
    const done = await fleet.call('POST', '/api/miners/gamma-1.miner/mode', { body: { mode: 'eco' } });
    t.equal(done.status, 200, JSON.stringify(done.body));
    t.match(done.body, {
      testbed: 'gamma-1',
      readBack: { mode: { same: true } },
      event: { actor: 'admin', data: { testbed: 'gamma-1' } },
    });
    t.equal(sim.device.settings.frequency, 400, 'the device runs eco');
    const tb = (await api.call('GET', '/v1/testbeds/gamma-1')).body;
    t.equal(tb.lock, null, 'the reservation was released');
    const hist = (await api.call('GET', '/v1/testbeds/gamma-1/history?limit=10')).body.events.map(
      (e: { kind: string; message: string }) => `${e.kind}: ${e.message}`,
    );
    t.match(hist.slice(0, 2), [
      /^released: fleet released it/,
      /^reserved: fleet reserved it for .*: mvm fleet: mode eco on gamma-1\.miner \(asked by admin\)/,
    ]);

    // A job holds the testbed (it may flash the device): the fleet stops reading it until the job ends.
    const gate = join(lab.dir, 'gate-fleet');
    const job = await lab.submit('bitaxe', heldScript(gate));
    await waitFor(
      async () => (await api.call('GET', '/v1/testbeds/gamma-1')).body.lock?.kind === 'job',
      'the job on the testbed',
      60_000,
    );
    const paused = await waitFor(
      async () => {
        const r = await fleet.call('GET', '/api/miners/gamma-1.miner/telemetry?refresh=true');
        return r.status === 409 ? r : undefined;
      },
      'reads paused',
      30_000,
    );
    t.match(paused!.body.message, /not read now: testbed gamma-1 runs a job .*it may be flashing the device/);
    writeFileSync(gate, '');
    await lab.waitJob(job, ['completed', 'failed'], 60_000);
    await waitFor(
      async () => (await fleet.call('GET', '/api/miners/gamma-1.miner/telemetry?refresh=true')).status === 200,
      'reads resumed after the job',
      60_000,
    );

    // Without [lab], a testbed's device is never changed.
    writeFileSync(
      fleet.configFile,
      readFileSync(lab.configFile, 'utf8') + '\n[fleet]\npoll_interval = "300ms"\nudp_port = 0\n',
    );
    fleet.proc.child.kill('SIGHUP');
    await fleet.proc.waitForLine(/^mvm fleet reloaded/, 30_000);
    const nolab = await fleet.call('POST', '/api/miners/gamma-1.miner/mode', { body: { mode: 'turbo' } });
    t.equal(nolab.status, 403);
    t.match(
      nolab.body.message,
      /belongs to testbed gamma-1: the fleet changes it only under a reservation, and it has no \[lab\] url and token/,
    );
  },
);

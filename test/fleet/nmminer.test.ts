// An NMMiner in the fleet: its broadcasts heard on the fleet's one UDP listener, pools pushed over
// UDP and read back from the config report it sends, and what it cannot do said so.
import t from 'tap';
import { startNmminerSim } from '../../sim/index.js';
import { freeUdpPort } from '../../cli/demo/lab-config.js';
import { waitFor } from '../helpers/mvm-process.js';
import { startFleet } from './daemon-helpers.js';

t.test('NMMiner: read continuously, pools applied and confirmed, modes and switching refused clearly', async (t) => {
  const [telemetry, report] = [await freeUdpPort(), await freeUdpPort()];
  const sim = await startNmminerSim({
    listen: '127.0.0.1:0',
    telemetry: `127.0.0.1:${telemetry}`,
    report: `127.0.0.1:${report}`,
    intervalMs: 200,
  });
  t.teardown(() => sim.close());
  const fleet = await startFleet(
    t,
    [
      '[fleet]',
      'poll_interval = "300ms"',
      `udp_port = ${telemetry}`,
      'udp_address = "127.0.0.1"',
      '',
      '[miner.lotto]',
      'driver = "nmminer"',
      `address = "${sim.address}"`,
      `options = { config_report_port = ${report}, listen_address = "127.0.0.1", confirm_timeout_ms = 20000, wifi_password = "password1" }`,
      '',
    ].join('\n'),
  );
  await waitFor(
    async () => (await fleet.call('GET', '/api/miners/lotto')).body.status === 'online',
    'the NMMiner heard',
    30_000,
  );
  const m = (await fleet.call('GET', '/api/miners/lotto')).body;
  t.match(m.last, { driver: 'nmminer', online: true, hashrateGhs: Number });

  t.equal(
    (
      await fleet.call('POST', '/api/pools/', {
        body: {
          id: 'solo',
          name: 'Solo',
          url: 'stratum+tcp://solo.example',
          port: 3333,
          user: 'bc1qlotto',
          password: 'x',
        },
      })
    ).status,
    201,
  );
  const applied = await fleet.call('PUT', '/api/miners/lotto/pools', { body: { pools: ['solo'] } });
  t.equal(applied.status, 200, JSON.stringify(applied.body));
  t.match(applied.body, {
    action: 'pools apply',
    drift: false,
    readBack: { pools: { readable: true, same: true, current: 'confirmed by the device report' } },
  });

  const sw = await fleet.call('POST', '/api/miners/lotto/pools/switch', { body: { index: 1 } });
  t.equal(sw.status, 422);
  t.match(
    sw.body.message,
    /unsupported on this firmware: pools-switch: NMMiner takes pool and Wi-Fi settings over UDP only/,
  );
  const mode = await fleet.call('POST', '/api/miners/lotto/mode', { body: { mode: 'eco' } });
  t.equal(mode.status, 400);
  t.match(mode.body.message, /lotto \(nmminer\) has no modes/);
  t.same((await fleet.call('GET', '/api/miners/lotto/modes')).body.modes, []);
});

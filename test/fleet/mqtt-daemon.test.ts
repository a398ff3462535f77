// [mqtt] in the real `mvm fleet` daemon: with a real Mosquitto, the daemon publishes a simulated
// Bitaxe's state, a Home Assistant mode command changes the simulator through the fleet's actions
// (an event by the actor `mqtt`), and /api/settings shows the broker without its password.
import t from 'tap';
import { existsSync } from 'node:fs';
import mqtt from 'mqtt';
import { startAxeosSim } from '../../sim/index.js';
import { MOSQUITTO_BIN, startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/mvm-process.js';
import { startFleet } from './daemon-helpers.js';

t.test(
  'the daemon exports to MQTT and takes mode commands as the actor mqtt',
  { skip: existsSync(MOSQUITTO_BIN) ? false : `no ${MOSQUITTO_BIN}` },
  async (t) => {
    const broker = await startMosquitto(t);
    const sim = await startAxeosSim({ board: '601', seed: 'mqtt-daemon' });
    t.teardown(() => sim.close());
    const fleet = await startFleet(
      t,
      [
        '[fleet]',
        'poll_interval = "300ms"',
        'udp_port = 0',
        '[miner.gamma]',
        'driver = "axeos"',
        `address = "${sim.url}"`,
        '[mqtt]',
        `url = "${broker.url}"`,
        'prefix = "fl"',
        'discovery = false',
        'password = "brokerpw"',
        'username = "u"',
        '',
      ].join('\n'),
    );
    const client = mqtt.connect(broker.url, { reconnectPeriod: 100 });
    t.teardown(() => client.endAsync());
    const last = new Map<string, string>();
    client.on('message', (topic, payload) => last.set(topic, payload.toString()));
    await waitFor(() => client.connected, 'the test client connected');
    await client.subscribeAsync(['fl/#'], { qos: 1 });
    await waitFor(
      () => last.has('fl/miner/gamma/state') && JSON.parse(last.get('fl/miner/gamma/state')!).online,
      'the state of gamma published',
      30_000,
    );
    await client.publishAsync('fl/miner/gamma/mode/set', 'eco');
    await waitFor(() => sim.device.settings.frequency === 400, 'the simulator in eco', 30_000);
    // the event is appended once the change is read back
    await waitFor(
      async () =>
        (
          (await fleet.call('GET', '/api/dashboard/events/recent?miner=gamma&kind=mode')).body as Array<{
            actor: string;
          }>
        ).some((e) => e.actor === 'mqtt'),
      'the mode event by the actor mqtt',
      30_000,
    );
    t.pass('the mode event names the actor mqtt');
    const s = (await fleet.call('GET', '/api/settings')).body;
    t.match(s.mqtt, { url: broker.url.replace(/\/?$/, ''), password: 'set', prefix: 'fl' });
    t.notMatch(JSON.stringify(s), /brokerpw/);
  },
);

// The MQTT exporter against a real Mosquitto broker: Home Assistant discovery configs, state and
// per-metric values matching the readings fed in, events, republishing when Home Assistant
// announces itself, mode commands reaching the fleet's setMode, the Last Will when the exporting
// process is killed, and messages buffered across a broker restart. Plus the [mqtt] config parser.
import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { parseMqttSection, type MqttConfig } from '../../fleet/export/mqtt-config.js';
import { startMqttExporter } from '../../fleet/export/mqtt.js';
import { ConfigError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { projectPath } from '../../shared/paths.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { FakeCollector, FakeDesired, FakeEvents, FakeMiners, minerView, telemetry } from './fakes.js';
import { createDriver } from '../../runner/drivers/registry.js';
import { modeSetting } from '../../runner/drivers/axeos/models.js';
import type { Mode } from '../../runner/drivers/types.js';
import { startAxeosSim } from '../../sim/index.js';

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A subscriber recording every message, and the last one per topic. */
async function subscriber(url: string, filters: string[], opts: { clientId?: string; clean?: boolean } = {}) {
  const client: MqttClient = mqtt.connect(url, {
    reconnectPeriod: 100,
    clean: opts.clean ?? true,
    ...(opts.clientId ? { clientId: opts.clientId } : {}),
  });
  const all: Seen[] = [];
  const last = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    all.push({ topic, payload: payload.toString(), retain: packet.retain });
    last.set(topic, payload.toString());
  });
  await waitFor(() => client.connected, 'the test subscriber to connect');
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, all, last, json: (topic: string) => (last.has(topic) ? JSON.parse(last.get(topic)!) : undefined) };
}

function config(url: string, over: Partial<MqttConfig> = {}): MqttConfig {
  return {
    ...parseMqttSection({
      url,
      reconnect_min: '100ms',
      reconnect_max: '1s',
      client_id: `mvm-test-${process.pid}-${Math.random().toString(36).slice(2)}`,
    })!,
    ...over,
  };
}

t.test('[mqtt] config: defaults, and every problem at once', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'secret\n');
  const c = parseMqttSection(
    { url: 'mqtts://broker.lan:8883', username: 'fleet', password_file: 'pw', tls_insecure: true },
    'fleet.toml',
    dir,
  )!;
  t.match(c, {
    url: 'mqtts://broker.lan:8883',
    username: 'fleet',
    password: 'secret',
    prefix: 'mvm',
    discoveryPrefix: 'homeassistant',
    qos: 1,
    discovery: true,
    bufferSize: 1000,
    tls: { rejectUnauthorized: false },
  });
  t.equal(parseMqttSection(undefined), undefined, 'no section: export off');
  t.equal(parseMqttSection({ enabled: false }), undefined, 'disabled: no url needed');
  try {
    parseMqttSection(
      {
        url: 'http://x',
        qos: 3,
        prefix: 'a/#',
        password: 'p',
        buffer: -1,
        tls_ca: 'nope.pem',
        retian: true,
        reconnect_min: '5s',
        reconnect_max: '1s',
      },
      'fleet.toml',
      dir,
    );
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof ConfigError);
    const keys = (err as ConfigError).problems.map((p) => p.key).sort();
    t.same(
      keys,
      [
        'mqtt.buffer',
        'mqtt.password',
        'mqtt.prefix',
        'mqtt.qos',
        'mqtt.reconnect_max',
        'mqtt.retian',
        'mqtt.tls_ca',
        'mqtt.url',
      ].sort(),
    );
    t.match((err as ConfigError).message, /fleet\.toml: mqtt\.retian: unknown key/);
  }
});

t.test('against Mosquitto', async (t) => {
  const broker = await startMosquitto(t);

  t.test('discovery, state, metrics, events, Home Assistant birth and mode commands', async (t) => {
    const miners = new FakeMiners([
      minerView('gamma-1'),
      minerView('nano 3s', { driver: 'cgminer', hardware: 'nano3s', model: undefined, status: 'offline', last: null }),
      minerView('nm-1', { driver: 'nmminer', model: 'NMMiner', status: 'offline', last: null }),
    ]);
    const collector = new FakeCollector();
    const events = new FakeEvents();
    const desired = new FakeDesired();
    desired.modes.set('gamma-1', 'standard');
    const asked: Array<[string, string, string]> = [];
    const cfg = config(broker.url, { prefix: 'lab' });
    const sub = await subscriber(broker.url, ['homeassistant/#', 'lab/#']);
    t.teardown(() => sub.client.endAsync());
    const exporter = startMqttExporter({
      config: cfg,
      miners,
      modesOf: (m) =>
        m.driver === 'cgminer'
          ? ['low', 'med', 'high']
          : m.driver === 'nmminer'
            ? []
            : ['eco', 'standard', 'turbo', 'oc'],
      collector,
      events,
      desired,
      log: silentLogger(),
      setMode: async (id, mode, actor) => {
        asked.push([id, mode, actor]);
        desired.modes.set(id, mode);
      },
    });
    t.teardown(() => exporter.close());

    const power = await waitFor(
      () => sub.json('homeassistant/sensor/lab_gamma-1/power/config'),
      'the power sensor discovery config',
    );
    // Everything of the first miner is published before the second miner's last message.
    await waitFor(
      () => sub.json('homeassistant/sensor/lab_nm-1/power/config') && sub.last.get('lab/miner/nm-1/availability'),
      'the last miner',
    );
    t.match(
      sub.json('homeassistant/select/lab_nano_3s/mode/config'),
      { options: ['low', 'med', 'high'] },
      "a miner's own modes",
    );
    t.notOk(sub.last.has('homeassistant/select/lab_nm-1/mode/config'), 'no select for a miner without modes');
    t.match(power, {
      unique_id: 'lab_gamma-1_power',
      state_topic: 'lab/miner/gamma-1/state',
      value_template: '{{ value_json.power_w }}',
      unit_of_measurement: 'W',
      device_class: 'power',
      state_class: 'measurement',
      availability: [{ topic: 'lab/status' }, { topic: 'lab/miner/gamma-1/availability' }],
      availability_mode: 'all',
      device: { identifiers: ['lab_gamma-1'], name: 'gamma-1', model: 'Bitaxe Gamma', sw_version: 'v2.4.0' },
    });
    await waitFor(() => sub.json('homeassistant/select/lab_gamma-1/mode/config'), 'the mode select');
    t.match(sub.json('homeassistant/select/lab_gamma-1/mode/config'), {
      command_topic: 'lab/miner/gamma-1/mode/set',
      options: ['eco', 'standard', 'turbo', 'oc'],
      value_template: '{{ value_json.mode }}',
    });
    t.match(sub.json('homeassistant/sensor/lab_gamma-1/temperature_chip/config'), {
      device_class: 'temperature',
      unit_of_measurement: '°C',
    });
    t.match(sub.json('homeassistant/sensor/lab_gamma-1/hashrate/config'), { unit_of_measurement: 'GH/s' });
    t.match(sub.json('homeassistant/binary_sensor/lab_gamma-1/online/config'), { device_class: 'connectivity' });
    t.pass('ids with spaces become safe topic levels');
    t.equal(sub.last.get('lab/status'), 'online');
    t.match(sub.json('lab/miner/gamma-1/state'), {
      id: 'gamma-1',
      online: true,
      mode: 'standard',
      hashrate_ghs: 1200,
      power_w: 18.5,
      temperatures: { chip: 55.5 },
      fan_rpm: 4200,
    });
    t.equal(sub.last.get('lab/miner/nano_3s/availability'), 'offline');
    const late = await subscriber(broker.url, ['lab/miner/gamma-1/state', 'lab/miner/gamma-1/power_w']);
    await waitFor(() => late.all.length === 2, 'retained messages for a late subscriber');
    t.ok(
      late.all.every((m) => m.retain),
      'state and metric topics are retained',
    );
    await late.client.endAsync();

    // A new reading: state and per-metric topics follow it.
    const t2 = telemetry('gamma-1', {
      hashrateGhs: 987.6,
      powerW: 16.25,
      temperatures: { chip: 61, vr: 50, board: 40 },
    });
    miners.set('gamma-1', { last: t2 });
    collector.emit('gamma-1', t2, 'online');
    await waitFor(
      () => sub.json('lab/miner/gamma-1/state')?.hashrate_ghs === 987.6,
      'the new reading in the state topic',
    );
    // The per-metric topics follow the state message.
    await waitFor(() => sub.last.get('lab/miner/gamma-1/temperature/chip') === '61', 'the chip temperature topic');
    t.equal(sub.last.get('lab/miner/gamma-1/power_w'), '16.25');
    await waitFor(
      () => sub.json('homeassistant/sensor/lab_gamma-1/temperature_board/config'),
      'a newly reported sensor is announced',
    );

    // Events are messages, not retained.
    events.append({ kind: 'offline', level: 'warn', minerId: 'gamma-1', message: 'no answer for 3 readings' });
    await waitFor(() => sub.all.find((m) => m.topic === 'lab/miner/gamma-1/events'), 'the event');
    t.match(JSON.parse(sub.all.find((m) => m.topic === 'lab/events')!.payload), {
      kind: 'offline',
      message: 'no answer for 3 readings',
    });

    // Home Assistant restarts: every config is published again.
    const before = sub.all.filter((m) => m.topic === 'homeassistant/sensor/lab_gamma-1/power/config').length;
    await sub.client.publishAsync('homeassistant/status', 'online');
    await waitFor(
      () => sub.all.filter((m) => m.topic === 'homeassistant/sensor/lab_gamma-1/power/config').length > before,
      'discovery republished',
    );

    // Home Assistant sets a mode: the fleet's setMode gets it, the state follows; junk is ignored.
    await sub.client.publishAsync('lab/miner/gamma-1/mode/set', 'warp');
    await sub.client.publishAsync('lab/miner/nobody/mode/set', 'eco');
    await sub.client.publishAsync('lab/miner/nano_3s/mode/set', 'turbo');
    await sub.client.publishAsync('lab/miner/gamma-1/mode/set', 'turbo');
    await waitFor(() => asked.length > 0, 'setMode called');
    t.same(asked, [['gamma-1', 'turbo', 'mqtt']]);
    await waitFor(
      () => sub.json('lab/miner/gamma-1/state')?.mode === 'turbo' && sub.last.get('lab/miner/gamma-1/mode') === 'turbo',
      'the state and mode topics show the new mode',
    );

    // A miner leaves the fleet: its entities and retained topics are cleared.
    miners.miners.delete('nano 3s');
    exporter.publishMiner('nano 3s');
    await waitFor(
      () =>
        sub.last.get('homeassistant/sensor/lab_nano_3s/power/config') === '' &&
        sub.last.get('lab/miner/nano_3s/state') === '',
      'the removed miner cleared',
    );
    const gone = await subscriber(broker.url, [
      'homeassistant/+/lab_nano_3s/#',
      'lab/miner/nano_3s/#',
      'lab/miner/gamma-1/state',
    ]);
    await waitFor(() => gone.last.has('lab/miner/gamma-1/state'), 'retained messages delivered');
    t.same([...gone.last.keys()], ['lab/miner/gamma-1/state'], 'nothing retained for the removed miner');
    await gone.client.endAsync();

    await exporter.close();
    await waitFor(() => sub.last.get('lab/status') === 'offline', 'offline on a clean stop');
  });

  t.test(
    'a simulated Bitaxe: its telemetry in the state topic, a Home Assistant mode command reaching it',
    async (t) => {
      const sim = await startAxeosSim({ board: '601' });
      t.teardown(() => sim.close());
      const driver = createDriver({ name: 'bench-1', driver: 'axeos', address: sim.url });
      t.teardown(() => driver.close());
      const miners = new FakeMiners([minerView('bench-1', { model: 'Bitaxe Gamma', last: null, status: 'unknown' })]);
      const collector = new FakeCollector();
      const desired = new FakeDesired();
      // What the collector does: read through the driver, store, announce.
      const read = async () => {
        const tl = await driver.telemetry();
        miners.set('bench-1', { last: tl, status: 'online' });
        collector.emit('bench-1', tl, 'online');
        return tl;
      };
      // What the fleet's setMode does in the end: the driver's control action on the device.
      const setMode = async (id: string, mode: string) => {
        await driver.control({ op: 'mode', mode: mode as Mode });
        desired.modes.set(id, mode);
        await read();
      };
      const sub = await subscriber(broker.url, ['sim/#']);
      t.teardown(() => sub.client.endAsync());
      const exporter = startMqttExporter({
        config: config(broker.url, { prefix: 'sim', discovery: false }),
        miners,
        collector,
        desired,
        setMode,
        log: silentLogger(),
      });
      t.teardown(() => exporter.close());
      await waitFor(() => exporter.stats().connected, 'connected');
      const first = await read();
      const state = await waitFor(
        () => (sub.json('sim/miner/bench-1/state')?.online ? sub.json('sim/miner/bench-1/state') : undefined),
        'the simulator reading',
      );
      t.equal(state.hashrate_ghs, first.hashrateGhs, `hashrate ${first.hashrateGhs} GH/s as the simulator reports`);
      t.equal(state.power_w, first.powerW);
      t.same(state.temperatures, first.temperatures);
      t.equal(state.firmware, first.firmwareVersion);

      await sub.client.publishAsync('sim/miner/bench-1/mode/set', 'eco');
      const eco = modeSetting('eco', 'BM1370');
      await waitFor(() => sim.device.settings.frequency === eco.frequency, `the simulator at ${eco.frequency} MHz`);
      t.equal(sim.device.settings.coreVoltage, eco.coreVoltage, 'and the eco core voltage');
      await waitFor(() => sub.json('sim/miner/bench-1/state')?.mode === 'eco', 'the state shows eco');
    },
  );

  t.test('the Last Will marks the exporter offline when its process is killed', async (t) => {
    const dir = tempDir(t);
    const child = join(dir, 'exporter.mjs');
    const dist = (p: string) => JSON.stringify(projectPath('dist', p));
    writeFileSync(
      child,
      `import { startMqttExporter } from ${dist('fleet/export/mqtt.js')};
import { silentLogger } from ${dist('shared/log.js')};
const miner = ${JSON.stringify(minerView('kid-1'))};
startMqttExporter({ config: JSON.parse(process.argv[2]), miners: { list: () => [miner], get: () => miner }, log: silentLogger() });
setInterval(() => {}, 60_000);
`,
    );
    const sub = await subscriber(broker.url, ['will/#']);
    t.teardown(() => sub.client.endAsync());
    const proc = spawn(process.execPath, [child, JSON.stringify(config(broker.url, { prefix: 'will' }))], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    t.teardown(() => proc.kill('SIGKILL'));
    await waitFor(
      () => sub.last.get('will/status') === 'online' && sub.json('will/miner/kid-1/state'),
      'the child exporter online',
      30_000,
    );
    proc.kill('SIGKILL');
    await waitFor(() => sub.last.get('will/status') === 'offline', 'the broker publishing the Last Will', 30_000);
    t.pass('offline after SIGKILL');
  });

  t.test('messages wait in the buffer while the broker restarts', async (t) => {
    const miners = new FakeMiners([minerView('gamma-1')]);
    const collector = new FakeCollector();
    const events = new FakeEvents();
    // A persistent session: the broker keeps the subscriber's QoS 1 messages across its restart.
    const sub = await subscriber(broker.url, ['buf/events', 'buf/miner/+/state'], {
      clientId: `sub-${process.pid}`,
      clean: false,
    });
    t.teardown(() => sub.client.endAsync());
    const exporter = startMqttExporter({
      config: config(broker.url, { prefix: 'buf', bufferSize: 3 }),
      miners,
      collector,
      events,
      log: silentLogger(),
    });
    t.teardown(() => exporter.close());
    await waitFor(() => exporter.stats().connected && sub.json('buf/miner/gamma-1/state'), 'the exporter connected');

    await broker.stop();
    await waitFor(() => !exporter.stats().connected, 'the exporter noticing the broker left');
    for (let i = 1; i <= 4; i++) events.append({ kind: 'setting', minerId: null, message: `event ${i}` });
    const later = telemetry('gamma-1', { powerW: 21.5 });
    miners.set('gamma-1', { last: later });
    // 4 events + 1 state + availability + metrics for a buffer of 3: the oldest are dropped, counted.
    collector.emit('gamma-1', later, 'online');
    const s = exporter.stats();
    t.equal(s.buffered, 3, 'bounded');
    t.ok(s.dropped > 0, `dropped ${s.dropped} when full`);

    const big = startMqttExporter({
      config: config(broker.url, { prefix: 'buf', bufferSize: 100 }),
      miners,
      collector: new FakeCollector(),
      events,
      log: silentLogger(),
    });
    t.teardown(() => big.close());
    for (let i = 5; i <= 7; i++) events.append({ kind: 'setting', minerId: null, message: `event ${i}` });
    t.ok(big.stats().buffered >= 3, 'buffered while the broker is away');

    await broker.start();
    await waitFor(
      () =>
        ['event 5', 'event 6', 'event 7'].every((e) =>
          sub.all.some((m) => m.topic === 'buf/events' && JSON.parse(m.payload).message === e),
        ),
      'the buffered events after the restart',
      30_000,
    );
    await waitFor(
      () => sub.json('buf/miner/gamma-1/state')?.power_w === 21.5,
      'the latest state after the restart',
      30_000,
    );
    const order = sub.all.filter((m) => m.topic === 'buf/events').map((m) => JSON.parse(m.payload).message as string);
    t.same(
      order.filter((m) => ['event 5', 'event 6', 'event 7'].includes(m)).slice(0, 3),
      ['event 5', 'event 6', 'event 7'],
      'in order',
    );
    await waitFor(() => exporter.stats().buffered === 0 && big.stats().buffered === 0, 'buffers emptied');
  });
});

t.test('TLS and credentials against Mosquitto', async (t) => {
  if (spawnSync('openssl', ['version']).status !== 0 || spawnSync('mosquitto_passwd', ['-h']).error) {
    t.plan(0, 'needs openssl and mosquitto_passwd');
    return;
  }
  const dir = tempDir(t);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=mvm test CA',
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  execFileSync('mosquitto_passwd', ['-b', '-c', join(dir, 'passwd'), 'fleet', 's3cret'], { stdio: 'pipe' });
  writeFileSync(join(dir, 'pw'), 's3cret\n');
  const broker = await startMosquitto(t, {
    scheme: 'mqtts',
    anonymous: false,
    listenerLines: [
      `cafile ${dir}/ca.crt`,
      `certfile ${dir}/server.crt`,
      `keyfile ${dir}/server.key`,
      `password_file ${dir}/passwd`,
    ],
  });
  const base = { url: broker.url, username: 'fleet', reconnect_min: '100ms', reconnect_max: '500ms' };
  const miners = new FakeMiners([minerView('gamma-1')]);
  const collector = new FakeCollector();
  const start = (raw: Record<string, unknown>, prefix: string) => {
    const e = startMqttExporter({
      config: { ...parseMqttSection({ ...base, ...raw, prefix, client_id: prefix }, 'fleet.toml', dir)! },
      miners,
      collector,
      log: silentLogger(),
    });
    t.teardown(() => e.close());
    return e;
  };
  const good = start({ password_file: 'pw', tls_ca: 'ca.crt' }, 'good');
  const badPassword = start({ password: 'wrong', tls_ca: 'ca.crt' }, 'badpw');
  const unknownCa = start({ password_file: 'pw' }, 'noca');
  await waitFor(() => good.stats().connected, 'connected over TLS with the password');
  const sub = mqtt.connect(broker.url, {
    ca: execFileSync('cat', [join(dir, 'ca.crt')]),
    username: 'fleet',
    password: 's3cret',
    reconnectPeriod: 100,
  });
  t.teardown(() => sub.endAsync());
  const seen = new Map<string, string>();
  sub.on('message', (topic, payload) => seen.set(topic, payload.toString()));
  await waitFor(() => sub.connected, 'the subscriber connected');
  await sub.subscribeAsync(['good/#', 'badpw/#', 'noca/#'], { qos: 1 });
  await waitFor(() => seen.get('good/status') === 'online' && seen.has('good/miner/gamma-1/state'), 'state over TLS');
  await waitFor(
    () => badPassword.stats().reconnects >= 2 && unknownCa.stats().reconnects >= 2,
    'the refused clients retrying',
  );
  t.equal(badPassword.stats().connected, false, 'a wrong password is refused');
  t.equal(unknownCa.stats().connected, false, 'a server certificate from an unknown CA is refused');
  t.notOk(
    [...seen.keys()].some((k) => k.startsWith('badpw/') || k.startsWith('noca/')),
    'nothing published by them',
  );
  collector.emit('gamma-1', telemetry('gamma-1'), 'online');
  t.ok(badPassword.stats().buffered > 0, 'their readings wait in the buffer');
});

// The axeos driver against simulators in their per-version modes, on what would hurt real hardware
// or mislead on it: presets inside each board's limits, pools as each firmware takes them, and
// images of the right family and board only.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError } from '../../shared/errors.js';
import { modesFor, normaliseMode } from '../../runner/drivers/modes.js';
import { flashDevice } from '../../runner/flash.js';
import { buildImage } from '../../runner/firmware/image.js';
import type { Board } from '../../sim/axeos/boards.js';
import { runMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { driverFor, rejects, sim } from './axeos-support.js';
import { writeTestbed } from './support.js';

t.test('modes per driver: names, aliases, board-limited presets', async (t) => {
  t.same(modesFor('axeos'), ['eco', 'standard', 'turbo', 'oc']);
  t.same(modesFor('axeos', '650'), ['eco', 'standard', 'turbo', 'oc']);
  t.same(modesFor('axeos', 'nerdqaxe++'), ['eco', 'standard', 'turbo', 'oc']);
  t.same(modesFor('axeos', '999'), [], 'an unknown board has no presets');
  t.same(modesFor('axeos', null), []);
  t.same(modesFor('cgminer'), ['low', 'med', 'high']);
  t.same(modesFor('nmminer'), []);
  t.equal(normaliseMode('cgminer', 'eco'), 'low');
  t.equal(normaliseMode('cgminer', 'Standard'), 'med');
  t.equal(normaliseMode('cgminer', 'turbo'), 'high');
  t.equal(normaliseMode('axeos', 'high', '601'), 'turbo');
  const err = t.throws(() => normaliseMode('cgminer', 'oc')) as unknown as MvmError;
  t.equal(err.code, 'USAGE');
  t.match(err.hint, /low, med, high/);
  const unknown = t.throws(() => normaliseMode('axeos', 'eco', '999')) as unknown as MvmError;
  t.match(unknown.message, /no mode presets/);
  t.match(unknown.hint, /frequency/);
});

t.test('GammaDuo (650): presets inside 350–410 MHz; an explicit 600 MHz is refused', async (t) => {
  const s = await sim(t, { board: '650' });
  const d = driverFor(s);
  t.equal((await d.info()).model, 'Bitaxe GammaDuo');
  for (const [mode, mhz] of [
    ['eco', 350],
    ['standard', 400],
    ['turbo', 410],
  ] as const) {
    const r = await d.control({ op: 'mode', mode });
    t.equal(s.device.settings.frequency, mhz, `${mode}: ${r.message}`);
  }
  await rejects(
    t,
    d.control({ op: 'frequency', mhz: 600 }),
    'invalid_argument',
    /outside Bitaxe GammaDuo's options \(350–410 MHz\)/,
  );
  t.equal(s.device.settings.frequency, 410, 'nothing was sent');
});

t.test('NerdQAxe++: eco stays inside 500–600 MHz and 1120–1200 mV', async (t) => {
  const s = await sim(t, { board: 'nerdqaxe++' });
  const d = driverFor(s);
  const eco = await d.control({ op: 'mode', mode: 'eco' });
  t.same([s.device.settings.frequency, s.device.settings.coreVoltage], [500, 1120], eco.message);
  await d.control({ op: 'mode', mode: 'turbo' });
  t.same([s.device.settings.frequency, s.device.settings.coreVoltage], [600, 1200]);
  await rejects(t, d.control({ op: 'voltage', mv: 1000 }), 'invalid_argument', /1120–1200 mV/);
});

t.test('oc says it is an overclock; leaving it clears overclockEnabled', async (t) => {
  const s = await sim(t, { board: '601', firmware: 'v2.12.0' });
  const d = driverFor(s);
  const oc = await d.control({ op: 'mode', mode: 'oc' });
  t.match(oc.message, /OVERCLOCK, outside the board's options/);
  t.equal(oc.details?.overclock, true);
  t.equal(s.device.settings.overclockEnabled, 1);
  await d.control({ op: 'frequency', mhz: 640 });
  t.equal(s.device.settings.frequency, 640, 'explicit values beyond the options only while overclocking');
  await d.control({ op: 'mode', mode: 'eco' });
  t.equal(s.device.settings.overclockEnabled, 0);
  await rejects(t, d.control({ op: 'frequency', mhz: 640 }), 'invalid_argument', /mode oc/);
});

t.test('a board mvm does not know: no presets, explicit values inside its ASIC range only', async (t) => {
  const s = await sim(t, { board: '601' });
  (s.device as { board: Board }).board = { ...s.device.board, boardVersion: '999' };
  const d = driverFor(s);
  const before = s.device.settings.frequency;
  await rejects(t, d.control({ op: 'mode', mode: 'eco' }), 'unsupported', /not one mvm knows the limits of/);
  t.equal(s.device.settings.frequency, before);
  await d.control({ op: 'frequency', mhz: 550 });
  t.equal(s.device.settings.frequency, 550);
  await rejects(t, d.control({ op: 'frequency', mhz: 700 }), 'invalid_argument', /BM1370's options/);
});

t.test('pool switch: unsupported where the firmware ignores useFallbackStratum, done from v2.11', async (t) => {
  for (const [board, firmware] of [
    ['401', 'v2.10.0'],
    ['nerdqaxe++', undefined],
  ] as const) {
    const s = await sim(t, { board, firmware });
    const d = driverFor(s);
    await rejects(t, d.control({ op: 'pools-switch', index: 1 }), 'unsupported', /ignores useFallbackStratum/);
    t.equal(s.device.settings.useFallbackStratum, 0, `${board} ${firmware ?? ''}: nothing was switched`);
  }
  const s = await sim(t, { board: '401', firmware: 'v2.11.0' });
  await driverFor(s).control({ op: 'pools-switch', index: 1 });
  t.equal(s.device.settings.useFallbackStratum, 1);
});

t.test('v2.15 pools[]: unused slots are emptied; an empty user is refused before sending', async (t) => {
  const s = await sim(t, { board: '601', firmware: 'v2.15.0' });
  s.device.settings.pools[5] = { ...s.device.settings.pools[0]!, id: 5, stratumURL: 'left.behind' };
  const d = driverFor(s);
  await d.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://only.example:3333', user: 'w' }] });
  t.same(
    s.device.settings.pools.map((p) => p?.stratumURL ?? null),
    ['only.example', null, null, null, null, null, null, null],
  );
  const cmp = await d.compareBaseline({ pools: [{ url: 'stratum+tcp://only.example:3333', user: 'w' }] });
  t.equal(cmp.pools?.same, true, 'read back as set');
  await rejects(
    t,
    d.control({ op: 'pools-set', pools: [{ url: 'stratum+tcp://a.example:3333', user: '' }] }),
    'invalid_argument',
    /empty stratumUser/,
  );
});

t.test('v2.15 restore converges: a second restore changes nothing and does not restart', async (t) => {
  const s = await sim(t, { board: '601', firmware: 'v2.15.0' });
  const testbed = writeTestbed(tempDir(t), {
    devices: [
      {
        name: 'gamma',
        driver: 'axeos',
        address: s.url,
        hardware: '601',
        options: { request_timeout_ms: 2000, poll_interval_ms: 100, settle_ms: 800, reboot_timeout_ms: 8000 },
        pools: [{ url: 'stratum+tcp://pool.lab:3333', user: 'bc1qlab.gamma' }],
        settings: { mode: 'standard' },
      },
    ],
  });
  const env = { MVM_LOG_LEVEL: 'warn', MVM_TESTBED: undefined, MVM_FIRMWARE_DIR: undefined };
  const first = await runMvm(['runner', 'restore', '--testbed', testbed, '--json'], { env, timeoutMs: 60_000 });
  t.equal(first.code, 0, first.stderr);
  t.equal(s.device.settings.pools.filter(Boolean).length, 1, 'the default fallback slot was emptied');
  const boots = s.device.bootCount;
  const second = await runMvm(['runner', 'restore', '--testbed', testbed, '--json'], { env, timeoutMs: 60_000 });
  t.equal(second.code, 0, second.stderr);
  const actions = JSON.parse(second.stdout).devices[0].actions as Array<{ action: string; message: string }>;
  t.notOk(
    actions.some((a) => a.action === 'restart'),
    JSON.stringify(actions),
  );
  t.match(actions.find((a) => a.action === 'pools')?.message, /already at baseline/);
  t.equal(s.device.bootCount, boots, 'not restarted');
});

t.test('flash: the image family and board must match the device; unknown family only when forced', async (t) => {
  const s = await sim(t, { board: '601', firmware: 'v2.15.0' });
  const d = driverFor(s, { poll_interval_ms: 100, settle_ms: 300, reboot_timeout_ms: 8000 });
  const dir = tempDir(t);
  const image = (name: string) => {
    const f = join(dir, name);
    writeFileSync(f, buildImage({ version: 'v2.16.0' }));
    return f;
  };
  const timing = { pollIntervalMs: 100, settleMs: 300, rebootTimeoutMs: 8000 };
  const refused = async (file: string, re: RegExp) => {
    await rejects(t, flashDevice({ driver: d, imageFile: file, timing }), 'image_rejected', re);
    t.equal(s.device.partitions.ota_0, null, 'nothing was sent');
  };
  await refused(
    image('esp-miner-NerdQAxe++.bin'),
    /a nerdqaxe image \(from its asset name\), but gamma is a Bitaxe Gamma \(bitaxe\)/,
  );
  await refused(image('esp-miner-factory-401-v2.16.0.bin'), /built for board 401.*is board 601/);
  const stated = image('build-7.bin');
  writeFileSync(`${stated}.json`, JSON.stringify({ family: 'nerdqaxe' }));
  await refused(stated, /nerdqaxe image \(from its statement\)/);
  const plain = image('fw.bin');
  await refused(plain, /its family is unknown/);
  const r = await flashDevice({ driver: d, imageFile: plain, timing, forceFamily: true });
  t.equal(r.version, 'v2.16.0', 'flashed when forced');
});

t.test('control restart --wait returns when the device answers again, and fails at its deadline', async (t) => {
  const env = { MVM_LOG_LEVEL: 'warn', MVM_TESTBED: undefined };
  const s = await sim(t, { board: '601', firmware: 'v2.15.0' });
  const device = [
    '--driver',
    'axeos',
    '--address',
    s.url,
    '--option',
    'poll_interval_ms=100',
    '--option',
    'request_timeout_ms=1000',
  ];
  const r = await runMvm(['runner', 'control', 'restart', '--wait', '--timeout', '20s', ...device, '--json'], {
    env,
    timeoutMs: 60_000,
  });
  t.equal(r.code, 0, r.stderr);
  t.equal(s.device.bootCount, 1, 'rebooted once');
  t.equal(s.device.power, 'up', 'answering when the command returned');
  t.match(JSON.parse(r.stdout), {
    action: 'restart',
    message: /^restarted: back after/,
    details: { backAfterMs: Number },
  });

  const slow = await sim(t, { board: '601', firmware: 'v2.15.0', bootMs: 120_000 });
  const late = await runMvm(
    [
      'runner',
      'control',
      'restart',
      '--wait',
      '--timeout',
      '2s',
      '--driver',
      'axeos',
      '--address',
      slow.url,
      '--option',
      'poll_interval_ms=100',
      '--option',
      'request_timeout_ms=500',
      '--progress-every',
      '500ms',
    ],
    { env, timeoutMs: 60_000 },
  );
  t.equal(late.code, 1, 'the deadline passed');
  t.match(late.stderr, /not back within 2 s/);
  // The wait is never silent: elapsed time and the device's state, on stderr.
  t.match(
    late.stderr,
    /waiting for \S+ to come back after the restart \(up to 2 s\): \d+ s \((not answering|no reading yet)/,
  );
  t.equal(late.stdout, '', 'stdout keeps only the result');
  const bad = await runMvm(['runner', 'control', 'pause', '--wait', ...device], { env });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--wait goes with restart only/);
});

t.test('NerdQAxe++: the second fan; OTA asks for a one-time password with its own message', async (t) => {
  const s = await sim(t, { board: 'nerdqaxe++', otp: '424242' });
  const tel = await driverFor(s).telemetry();
  t.equal(tel.fans.length, 2, 'fanrpm2/fanspeed2 read as the second fan');
  t.match(tel.fans[1], { name: 'fan2', rpm: Number, percent: Number });
  const dir = tempDir(t);
  const file = join(dir, 'esp-miner-NerdQAxe++.bin');
  writeFileSync(file, buildImage({ version: 'v1.0.31' }));
  const timing = { pollIntervalMs: 100, settleMs: 300, rebootTimeoutMs: 8000 };
  const err = await rejects(
    t,
    flashDevice({ driver: driverFor(s), imageFile: file, timing }),
    'refused',
    /one-time password/,
  );
  t.match(err.hint, /--option otp=CODE/);
  t.equal(s.device.partitions.ota_0, null, 'nothing written');
  const r = await flashDevice({ driver: driverFor(s, { otp: '424242' }), imageFile: file, timing });
  t.equal(r.version, 'v1.0.31');
});

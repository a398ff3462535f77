// The simulators' pieces without a transport: fault parsing, firmware generations, display
// formats, drift, boards, the Avalon estats key per firmware.
import t from 'tap';
import { AxeosDevice } from '../../sim/axeos/device.js';
import { BOARD_IDS, expectedHashrate, findBoard } from '../../sim/axeos/boards.js';
import { featuresOf, suffixString } from '../../sim/axeos/firmware.js';
import { summaryKeyFor } from '../../sim/cgminer/models.js';
import { drift } from '../../sim/common/drift.js';
import { DropCounter, parseFault, parseFaults } from '../../sim/common/faults.js';
import { parseDestination, parseListen } from '../../sim/common/address.js';
import { siString } from '../../sim/nmminer/device.js';
import { manualClock } from './support.js';

t.test('faults: defaults, values, clear errors', async (t) => {
  t.same(parseFault('slow'), ['slow', 3000]);
  t.same(parseFault('drop=0.25'), ['drop', 0.25]);
  t.same(
    [...parseFaults(['brick', 'overheat=3'])],
    [
      ['brick', 1],
      ['overheat', 3],
    ],
  );
  t.throws(() => parseFault('nope'), { code: 'USAGE', message: 'unknown fault "nope"' });
  t.throws(() => parseFault('slow=-1'), { code: 'USAGE' });
  const d = new DropCounter();
  t.same(
    Array.from({ length: 8 }, () => d.shouldDrop(0.25)),
    [false, false, false, true, false, false, false, true],
  );
});

t.test('firmware generations', async (t) => {
  const at = (v: string) => featuresOf(v, 'bitaxe');
  t.match(at('v2.4.5-3-gb5d1e36-dirty'), {
    bestDiffNumber: false,
    restartJson: false,
    pause: false,
    poolsApi: false,
    asicEndpoint: false,
  });
  t.match(at('v2.8.0'), { statistics: true, apiNotFoundJson: false });
  t.match(at('v2.9.0'), { apiNotFoundJson: true });
  t.match(at('v2.10.0'), { bestDiffNumber: false, manualFanSpeedKey: false, fallbackSwitch: false });
  t.match(at('v2.11.0'), { bestDiffNumber: true, manualFanSpeedKey: true, fallbackSwitch: true });
  t.match(at('v2.12.0'), { manualFanSpeedKey: true, restartJson: false });
  t.match(at('v2.13.0'), { restartJson: true, pause: false });
  t.match(at('v2.14.0'), { pause: true, poolsApi: false });
  t.match(at('v2.15.0'), { poolsApi: true });
  t.match(at('my-local-build'), { poolsApi: true }, 'an unparseable version counts as the newest');
  t.match(featuresOf('v1.0.30', 'nerdqaxe'), {
    restartJson: false,
    poolsApi: false,
    bestDiffNumber: false,
    fallbackSwitch: false,
  });
});

t.test('display formats', async (t) => {
  t.equal(suffixString(483_000), '483k');
  t.equal(suffixString(4_021_000), '4.02M');
  t.equal(suffixString(999), '999');
  t.equal(siString(113_130, 2), '113.13K');
  t.equal(siString(1_015_400, 4, 'H/s'), '1.0154MH/s');
  t.equal(summaryKeyFor('25052801_14a19a2'), 'MM ID0:Summary');
  t.equal(summaryKeyFor('25021401_56abae7'), 'MM ID0');
});

t.test('boards and expected hashrate', async (t) => {
  for (const id of BOARD_IDS) {
    const b = findBoard(id);
    t.ok(
      b.frequencyOptions.includes(b.defaultFrequency) || b.family === 'nerdqaxe',
      `${id}: default frequency is an option`,
    );
  }
  t.equal(expectedHashrate(findBoard('601'), 525), 1071);
  t.equal(expectedHashrate(findBoard('NerdQAxe++'), 600), 4896);
  t.throws(() => findBoard('999'), { code: 'USAGE' });
});

t.test('drift stays near its base and is deterministic', async (t) => {
  for (let ms = 0; ms < 600_000; ms += 997) {
    const v = drift(100, 0.04, 42, ms);
    t.ok(v >= 96 && v <= 104, `${v}`);
  }
  t.equal(drift(100, 0.04, 7, 12345), drift(100, 0.04, 7, 12345));
});

t.test('an AxeOS device model runs without a transport, from an injected clock', async (t) => {
  const clock = manualClock();
  const dev = new AxeosDevice({ board: findBoard('401'), firmware: 'v2.12.0', now: clock.now });
  t.teardown(() => dev.close());
  t.equal(dev.telemetry().sharesAccepted, 0);
  clock.advance(3_600_000);
  const tel = dev.telemetry();
  // ~0.63 TH/s at difficulty 1000 finds ~0.146 shares/s: ~525 an hour.
  t.ok(tel.sharesAccepted > 450 && tel.sharesAccepted < 600, `${tel.sharesAccepted} shares in an hour`);
  t.equal(tel.uptimeSeconds, 3600);
  dev.setPaused(true);
  clock.advance(600_000);
  t.equal(dev.telemetry().sharesAccepted, tel.sharesAccepted, 'no shares while paused');
});

t.test('listen addresses', async (t) => {
  t.same(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  t.same(parseListen('http://127.0.0.1:18601'), { host: '127.0.0.1', port: 18601 });
  t.same(parseListen('localhost', 4028), { host: '127.0.0.1', port: 4028 });
  t.throws(() => parseListen('127.0.0.1:99999'), { code: 'USAGE' });
  t.throws(() => parseListen('192.168.1.5:80'), { code: 'USAGE' });
});

t.test('destinations: loopback, or the loopback broadcast address; never the LAN', async (t) => {
  t.same(parseDestination('127.0.0.1:12345', 1), { host: '127.0.0.1', port: 12345, broadcast: false });
  t.same(parseDestination('127.255.255.255:4000', 1), { host: '127.255.255.255', port: 4000, broadcast: true });
  t.same(parseDestination('127.255.255.255', 12345), { host: '127.255.255.255', port: 12345, broadcast: true });
  t.throws(() => parseDestination('255.255.255.255:12345', 12345), {
    code: 'USAGE',
    message: 'simulators stay on loopback only, not "255.255.255.255"',
    hint: /127\.255\.255\.255:12345/,
  });
  t.throws(() => parseDestination('192.168.1.255:12345', 12345), { code: 'USAGE' });
  t.throws(() => parseDestination('127.255.255.255:99999', 12345), { code: 'USAGE' });
});

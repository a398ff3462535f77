// The AxeOS simulator over real HTTP: info against the spec per board and firmware generation,
// drift, settings validation, pools by version, restart, pause, OTA, boot partition, side channel.
import t, { type Test } from 'tap';
import { buildImage } from '../../runner/firmware/image.js';
import { startAxeosSim, type AxeosSim } from '../../sim/axeos/index.js';
import { BOARD_IDS } from '../../sim/axeos/boards.js';
import { waitFor } from '../helpers/mvm-process.js';
import { fixture, getJson, manualClock, request, specValidator, unreachable } from './support.js';

const FAST = { rebootDelayMs: 100, bootMs: 150 };

async function sim(t: Test, opts: Parameters<typeof startAxeosSim>[0] = {}): Promise<AxeosSim> {
  const s = await startAxeosSim({ ...FAST, ...opts });
  t.teardown(() => s.close());
  return s;
}

/** The spec's SystemInfo, loosened for older generations: no required list, bestDiff a string up to v2.10. */
function infoValidator(bestDiffString: boolean) {
  return specValidator('SystemInfo', (schemas) => {
    const info = schemas.SystemInfo as { required?: string[]; properties: Record<string, { type: string }> };
    delete info.required;
    if (bestDiffString) {
      info.properties.bestDiff = { type: 'string' };
      info.properties.bestSessionDiff = { type: 'string' };
    }
  });
}

t.test('v2.15 info is valid against the spec SystemInfo schema for every board', async (t) => {
  const validate = specValidator('SystemInfo');
  for (const board of BOARD_IDS.filter((b) => b !== 'nerdqaxe++')) {
    const s = await sim(t, { board, firmware: 'v2.15.0' });
    const info = await getJson(`${s.url}/api/system/info`);
    t.ok(validate(info), `board ${board}: ${JSON.stringify(validate.errors)}`);
    t.equal(info.boardVersion, board);
    t.equal(typeof info.bestDiff, 'number');
    t.equal(info.version, 'v2.15.0');
    await s.close();
  }
});

t.test('older generations keep the spec types of the fields they have', async (t) => {
  for (const [fw, stringDiff] of [
    ['v2.4.5', true],
    ['v2.10.1', true],
    ['v2.11.0', false],
    ['v2.12.0', false],
    ['v2.14.1', false],
  ] as const) {
    const validate = infoValidator(stringDiff);
    const s = await sim(t, { board: '401', firmware: fw });
    const info = await getJson(`${s.url}/api/system/info`);
    t.ok(validate(info), `${fw}: ${JSON.stringify(validate.errors)}`);
    t.equal(typeof info.bestDiff, stringDiff ? 'string' : 'number', `${fw} bestDiff type`);
    t.equal('miningPaused' in info, fw === 'v2.14.1', `${fw} miningPaused`);
    t.notOk('pools' in info, `${fw} has no pools[]`);
    await s.close();
  }
});

t.test('v2.4.5 reports exactly the keys of the recorded Supra', async (t) => {
  const recorded = JSON.parse(fixture('bitaxe-v2_0_0-system_info.json')) as Record<string, unknown>;
  const s = await sim(t, { board: '401', firmware: 'v2.4.5-3-gb5d1e36-dirty' });
  const info = await getJson(`${s.url}/api/system/info`);
  t.same(Object.keys(info).sort(), Object.keys(recorded).sort());
  for (const k of [
    'ASICModel',
    'boardVersion',
    'smallCoreCount',
    'frequency',
    'coreVoltage',
    'runningPartition',
    'version',
  ]) {
    t.equal(info[k], recorded[k], k);
  }
});

t.test('NerdQAxe++ answers with its own firmware API', async (t) => {
  const clock = manualClock();
  const s = await sim(t, { board: 'nerdqaxe++', now: clock.now });
  let info = await getJson(`${s.url}/api/system/info`);
  t.match(info, {
    deviceModel: 'NerdQAxe++',
    asicCount: 4,
    ASICModel: 'BM1370',
    smallCoreCount: 2040,
    frequency: 600,
    version: 'v1.0.30',
    shutdown: false,
  });
  t.notOk('boardVersion' in info, 'no boardVersion on NerdQAxe');
  t.equal(typeof info.bestDiff, 'string');
  t.equal(info.asicTemps.length, 4);
  t.ok(
    Math.abs(info.hashRate - (2040 * 4 * 600) / 1000) / ((2040 * 4 * 600) / 1000) < 0.1,
    `hashRate ${info.hashRate}`,
  );
  t.equal((await request(`${s.url}/api/system/statistics`)).status, 302, 'history lives in the info, not /statistics');
  const asic = await getJson(`${s.url}/api/system/asic`);
  t.match(asic, { deviceModel: 'NerdQAxe++', defaultFrequency: 600, absMaxFrequency: 800 });

  // A lenient PATCH: mistyped keys are skipped, the rest taken, never a 400.
  let r = await request(`${s.url}/api/system`, {
    method: 'PATCH',
    json: { frequency: 'fast', coreVoltage: 1200, stratumURL: 'nerd.pool', flipscreen: 1 },
  });
  t.equal(r.status, 200);
  info = await getJson(`${s.url}/api/system/info`);
  t.match(info, { frequency: 600, coreVoltage: 1200, stratumURL: 'nerd.pool' });

  s.device.setFault('overheat', 2);
  clock.advance(60_000);
  info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.shutdown, true, 'shut down at overheat_temp');
  t.equal(info.hashRate, 0);
  r = await request(`${s.url}/api/system/restart`, { method: 'POST' });
  t.equal(r.text, 'System will restart shortly.', 'plain-text restart reply');
});

t.test('telemetry drifts around the expected hashrate; shares and uptime grow', async (t) => {
  const clock = manualClock();
  const s = await sim(t, { board: '601', firmware: 'v2.12.0', now: clock.now });
  const a = await getJson(`${s.url}/api/system/info`);
  t.equal(a.expectedHashrate, (2040 * 1 * 525) / 1000, 'smallCoreCount × asicCount × MHz / 1000');
  const seen = new Set<number>();
  for (let i = 0; i < 30; i++) {
    clock.advance(5000);
    const info = await getJson(`${s.url}/api/system/info`);
    seen.add(info.hashRate);
    t.ok(
      Math.abs(info.hashRate - a.expectedHashrate) / a.expectedHashrate < 0.1,
      `hashRate ${info.hashRate} near expected`,
    );
    t.ok(info.temp > 40 && info.temp < 70, `temp ${info.temp}`);
    t.ok(info.power > 10 && info.power < 25, `power ${info.power}`);
  }
  t.ok(seen.size > 20, 'hashRate changes between polls');
  const b = await getJson(`${s.url}/api/system/info`);
  t.equal(b.uptimeSeconds - a.uptimeSeconds, 150);
  t.ok(b.sharesAccepted > a.sharesAccepted, `shares grow (${a.sharesAccepted} → ${b.sharesAccepted})`);
  t.ok(b.bestDiff >= a.bestDiff);
});

t.test('frequency and voltage apply at once; a bad value saves nothing; unknown keys are ignored', async (t) => {
  const s = await sim(t, { board: '601', firmware: 'v2.12.0' });
  let r = await request(`${s.url}/api/system`, {
    method: 'PATCH',
    json: { frequency: 600, coreVoltage: 1200, someFutureKey: 'x' },
  });
  t.equal(r.status, 200);
  t.equal(r.text, '', 'ESP-Miner answers an empty 200');
  let info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.frequency, 600);
  t.equal(info.coreVoltage, 1200);
  t.equal(info.expectedHashrate, (2040 * 600) / 1000);

  r = await request(`${s.url}/api/system`, { method: 'PATCH', json: { frequency: 490, manualFanSpeed: 150 } });
  t.equal(r.status, 400);
  t.equal(r.text, 'Wrong API input');
  r = await request(`${s.url}/api/system`, { method: 'PATCH', json: { hostname: 'ok', frequency: 'fast' } });
  t.equal(r.status, 400);
  r = await request(`${s.url}/api/system`, { method: 'PATCH', body: '{not json' });
  t.equal(r.status, 400);
  info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.frequency, 600, 'nothing saved from the rejected requests');
  t.equal(info.hostname, 'bitaxe');

  r = await request(`${s.url}/api/system`, {
    method: 'PATCH',
    json: { autofanspeed: 0, manualFanSpeed: 80, overheat_mode: 1 },
  });
  t.equal(r.status, 400, 'overheat_mode can only be cleared');
  r = await request(`${s.url}/api/system`, { method: 'PATCH', json: { autofanspeed: 0, manualFanSpeed: 80 } });
  t.equal(r.status, 200);
  info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.fanspeed, 80);
  t.equal(info.manualFanSpeed, 80);
  t.equal(info.autofanspeed, 0);
});

t.test('the manual fan speed key: fanspeed up to v2.10, manualFanSpeed from v2.11', async (t) => {
  const old = await sim(t, { firmware: 'v2.10.0' });
  await request(`${old.url}/api/system`, {
    method: 'PATCH',
    json: { autofanspeed: 0, fanspeed: 55, manualFanSpeed: 20 },
  });
  let info = await getJson(`${old.url}/api/system/info`);
  t.equal(info.fanspeed, 55);
  t.notOk('manualFanSpeed' in info);
  const s = await sim(t, { firmware: 'v2.11.0' });
  await request(`${s.url}/api/system`, { method: 'PATCH', json: { autofanspeed: 0, fanspeed: 55 } });
  info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.manualFanSpeed, 100, 'fanspeed is no longer a setting: ignored');
  t.equal(info.fanspeed, 100);
});

t.test('pools: stratum keys up to v2.14, pools[] from v2.15 where the old keys are ignored', async (t) => {
  const old = await sim(t, { firmware: 'v2.14.0' });
  let r = await request(`${old.url}/api/system`, {
    method: 'PATCH',
    json: { stratumURL: 'pool.a', stratumPort: 4444, stratumUser: 'w1', fallbackStratumURL: 'pool.b' },
  });
  t.equal(r.status, 200);
  let info = await getJson(`${old.url}/api/system/info`);
  t.match(info, { stratumURL: 'pool.a', stratumPort: 4444, stratumUser: 'w1', fallbackStratumURL: 'pool.b' });
  r = await request(`${old.url}/api/system`, { method: 'PATCH', json: { stratumPort: 70000 } });
  t.equal(r.status, 400);
  r = await request(`${old.url}/api/system/pools/0`, {
    method: 'PUT',
    json: { stratumURL: 'x', stratumPort: 1, stratumUser: 'u' },
  });
  t.equal(r.status, 404, 'no pools API before v2.15');
  t.same(JSON.parse(r.text), { error: 'unknown route' });

  const s = await sim(t, { firmware: 'v2.15.0' });
  const before = await getJson(`${s.url}/api/system/info`);
  r = await request(`${s.url}/api/system`, { method: 'PATCH', json: { stratumURL: 'ignored.pool', stratumPort: 1 } });
  t.equal(r.status, 200, 'old keys are accepted…');
  info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.stratumURL, before.stratumURL, '…and silently ignored');

  r = await request(`${s.url}/api/system`, {
    method: 'PATCH',
    json: {
      pools: [
        { stratumURL: 'new.pool', stratumPort: 3334, stratumUser: 'me' },
        { stratumURL: 'backup.pool', stratumPort: 3335, stratumUser: 'me' },
      ],
      primaryPoolIndex: 0,
      secondaryPoolIndex: 1,
    },
  });
  t.equal(r.status, 200);
  info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.pools.length, 2);
  t.match(info, { stratumURL: 'new.pool', stratumPort: 3334, fallbackStratumURL: 'backup.pool' });
  t.equal(info.pools[0].stratumPassword, '*****', 'passwords read back masked');

  r = await request(`${s.url}/api/system/pools/2`, {
    method: 'PUT',
    json: { stratumURL: 'third.pool', stratumPort: 3336, stratumUser: 'me' },
  });
  t.equal(r.status, 200);
  r = await request(`${s.url}/api/system`, { method: 'PATCH', json: { primaryPoolIndex: 2 } });
  t.equal(r.status, 200);
  info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.stratumURL, 'third.pool');
  r = await request(`${s.url}/api/system/pools/3`, {
    method: 'PUT',
    json: { stratumURL: 'bad.pool', stratumPort: 0, stratumUser: 'me' },
  });
  t.equal(r.status, 400);
  r = await request(`${s.url}/api/system`, { method: 'PATCH', json: { pools: [{ stratumURL: 'no-port' }] } });
  t.equal(r.status, 400);
  t.equal((await getJson(`${s.url}/api/system/info`)).pools.length, 3, 'a rejected pools[] changes nothing');
  r = await request(`${s.url}/api/system/pools/2`, { method: 'DELETE' });
  t.equal(r.status, 400, 'the primary slot cannot be deleted');
  r = await request(`${s.url}/api/system/pools/0`, { method: 'DELETE' });
  t.equal(r.status, 200);
  info = await getJson(`${s.url}/api/system/info`);
  t.same(
    info.pools.map((p: { id: number }) => p.id),
    [1, 2],
  );
  r = await request(`${s.url}/api/system/pools/0`, {
    method: 'PUT',
    json: { stratumURL: 'tls.pool', stratumPort: 443, stratumUser: 'me', stratumTLS: true },
  });
  t.equal(r.status, 400, 'stratumTLS is a number, not a boolean');
  r = await request(`${s.url}/api/system/pools/0`, {
    method: 'PUT',
    json: { stratumURL: 'tls.pool', stratumPort: 443, stratumUser: 'me', stratumTLS: 1 },
  });
  t.equal(r.status, 200);
  r = await request(`${s.url}/api/system/pools/0`, {
    method: 'PUT',
    json: { stratumURL: 'tls.pool', stratumPort: 443, stratumUser: '' },
  });
  t.equal(r.status, 400, 'an empty user is refused');
  r = await request(`${s.url}/api/system`, {
    method: 'PATCH',
    json: { pools: [{ id: 3, stratumURL: 'four.pool', stratumPort: 3337, stratumUser: 'me' }] },
  });
  t.equal(r.status, 200);
  info = await getJson(`${s.url}/api/system/info`);
  t.same(
    info.pools.map((p: { id: number }) => p.id),
    [0, 1, 2, 3],
    'pools[] changes only the slots it lists',
  );
});

t.test('restart: plain text up to v2.12, JSON from v2.13; down ~1 s later, back with uptime reset', async (t) => {
  for (const [fw, json] of [
    ['v2.12.0', false],
    ['v2.13.0', true],
  ] as const) {
    const clock = { t: Date.now() + 3_600_000 };
    const s = await sim(t, { firmware: fw, now: () => clock.t });
    const before = await getJson(`${s.url}/api/system/info`);
    t.equal(before.uptimeSeconds, 0);
    clock.t += 600_000;
    t.equal((await getJson(`${s.url}/api/system/info`)).uptimeSeconds, 600);
    const r = await request(`${s.url}/api/system/restart`, { method: 'POST' });
    t.equal(r.status, 200);
    if (json) t.same(JSON.parse(r.text), { message: 'System will restart shortly.' });
    else {
      t.match(r.type, /text\/html/, 'httpd_resp_send without a type');
      t.equal(r.text, 'System will restart shortly.');
    }
    await waitFor(() => unreachable(`${s.url}/api/system/info`), 'the device to go down', 5000);
    await waitFor(
      async () => (await getJson(`${s.url}/api/system/info`)).uptimeSeconds === 0,
      'the device to come back',
      5000,
    );
    t.equal(s.device.bootCount, 1);
    await s.close();
  }
});

t.test('pause and resume from v2.14', async (t) => {
  const s = await sim(t, { firmware: 'v2.14.0' });
  let r = await request(`${s.url}/api/system/pause`, { method: 'POST' });
  t.same(JSON.parse(r.text), { message: 'Mining paused' });
  let info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.miningPaused, true);
  t.equal(info.hashRate, 0);
  r = await request(`${s.url}/api/system/resume`, { method: 'POST' });
  t.equal(r.status, 200);
  info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.miningPaused, false);
  t.ok(info.hashRate > 0);

  const old = await sim(t, { firmware: 'v2.12.0' });
  r = await request(`${old.url}/api/system/pause`, { method: 'POST' });
  t.equal(r.status, 404, 'v2.12 has no pause endpoint');
});

t.test('asic options and statistics', async (t) => {
  const clock = manualClock();
  const s = await sim(t, { board: '401', firmware: 'v2.12.0', now: clock.now });
  const asic = await getJson(`${s.url}/api/system/asic`);
  t.ok(specValidator('SystemASIC')(asic));
  t.match(asic, { ASICModel: 'BM1368', defaultFrequency: 490, defaultVoltage: 1166, asicCount: 1 });
  clock.advance(10 * 60_000);
  const stats = await getJson(`${s.url}/api/system/statistics?columns=hashrate,asicTemp,power`);
  t.ok(specValidator('SystemStatistics')(stats));
  t.same(stats.labels, ['hashrate', 'asicTemp', 'power', 'timestamp']);
  t.equal(stats.statistics.length, 5, 'one sample every 120 s');
  const oldSim = await sim(t, { firmware: 'v2.4.5' });
  t.equal((await request(`${oldSim.url}/api/system/asic`)).status, 302, 'no /asic before v2.7');
});

t.test('OTA: a wrong first byte is refused as esp_ota_write does; a valid image reboots into it', async (t) => {
  const s = await sim(t, { board: '601', firmware: 'v2.12.0' });
  const bad = buildImage({ version: 'v2.13.0' });
  bad[0] = 0x00;
  let r = await request(`${s.url}/api/system/OTA`, {
    method: 'POST',
    body: bad,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  t.equal(r.status, 500);
  t.equal(r.text, 'Write Error');
  const truncated = buildImage({ version: 'v2.13.0' }).subarray(0, 0x40);
  r = await request(`${s.url}/api/system/OTA`, { method: 'POST', body: truncated });
  t.equal(r.status, 500);
  t.equal(r.text, 'Validation / Activation Error');
  t.equal(s.device.bootCount, 0, 'no reboot after a refused image');

  r = await request(`${s.url}/api/system/OTA`, {
    method: 'POST',
    body: buildImage({ version: 'v2.13.0' }),
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  t.equal(r.status, 200);
  t.equal(r.text, 'Firmware update complete, rebooting now!\n');
  const info = await waitFor(
    async () => {
      const i = await getJson(`${s.url}/api/system/info`);
      return i.version === 'v2.13.0' ? i : undefined;
    },
    'the new version',
    5000,
  );
  t.equal(info.runningPartition, 'ota_0');
  t.ok(info.uptimeSeconds <= 1);
  r = await request(`${s.url}/api/system/OTA`, { method: 'POST', body: buildImage({ version: 'v2.15.0' }) });
  t.equal(r.status, 200);
  const next = await waitFor(
    async () => {
      const i = await getJson(`${s.url}/api/system/info`);
      return i.version === 'v2.15.0' ? i : undefined;
    },
    'the second update',
    5000,
  );
  t.equal(next.runningPartition, 'ota_1');
  t.ok(Array.isArray(next.pools), 'the API follows the running generation');
  t.same(
    next.partitions.map((p: { label: string; version: string | null }) => [p.label, p.version]),
    [
      ['factory', 'v2.12.0'],
      ['ota_0', 'v2.13.0'],
      ['ota_1', 'v2.15.0'],
    ],
  );
});

t.test('boot partition (v2.15) selects the slot and reboots into it by itself', async (t) => {
  const s = await sim(t, { firmware: 'v2.15.0' });
  let r = await request(`${s.url}/api/system/boot`, { method: 'POST', json: { partition: 'ota_0' } });
  t.equal(r.status, 400, 'empty slot');
  r = await request(`${s.url}/api/system/boot`, { method: 'POST', json: { partition: 'nope' } });
  t.equal(r.status, 400);
  await request(`${s.url}/api/system/OTA`, { method: 'POST', body: buildImage({ version: 'v2.15.1' }) });
  await waitFor(async () => (await getJson(`${s.url}/api/system/info`)).version === 'v2.15.1', 'update', 5000);
  const boots = s.device.bootCount;
  r = await request(`${s.url}/api/system/boot`, { method: 'POST', json: { partition: 'factory' } });
  t.equal(r.status, 200);
  t.same(JSON.parse(r.text), { message: 'Next boot partition set successfully. Rebooting...' });
  const info = await waitFor(
    async () => {
      const i = await getJson(`${s.url}/api/system/info`);
      return i.runningPartition === 'factory' ? i : undefined;
    },
    'boot from factory',
    5000,
  );
  t.equal(info.version, 'v2.15.0');
  t.equal(s.device.bootCount, boots + 1, 'one reboot, without a restart call');
});

t.test('OTA errors per build: JSON {message} from v2.15, "Flash Error" on NerdQAxe++; OTP asks 401', async (t) => {
  const bad = buildImage({ version: 'v2.16.0' });
  bad[0] = 0;
  const v215 = await sim(t, { firmware: 'v2.15.0' });
  let r = await request(`${v215.url}/api/system/OTA`, { method: 'POST', body: bad });
  t.equal(r.status, 500);
  t.same(JSON.parse(r.text), { message: 'Write Error' });
  const nerd = await sim(t, { board: 'nerdqaxe++', otp: '1234' });
  r = await request(`${nerd.url}/api/system/OTA`, { method: 'POST', body: bad });
  t.equal(r.status, 401);
  t.equal(r.text, 'OTP/Session required');
  r = await request(`${nerd.url}/api/system/OTA`, { method: 'POST', body: bad, headers: { 'X-OTP-Code': '1234' } });
  t.equal(r.status, 500);
  t.equal(r.text, 'Flash Error');
  const info = await getJson(`${nerd.url}/api/system/info`);
  t.equal(info.otp, true);
  t.ok(info.fanrpm2 > 0 && typeof info.fanspeed2 === 'number', 'the second fan');
});

t.test('GammaDuo (650): its narrow frequency options', async (t) => {
  const s = await sim(t, { board: '650' });
  const asic = await getJson(`${s.url}/api/system/asic`);
  t.match(asic, { ASICModel: 'BM1370', defaultFrequency: 400, frequencyOptions: [350, 375, 400, 410] });
  const info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.boardVersion, '650');
});

t.test('unknown routes: 404 JSON under /api from v2.9, else a redirect to the captive portal', async (t) => {
  const s = await sim(t);
  let r = await request(`${s.url}/api/nothing`);
  t.equal(r.status, 404);
  t.same(JSON.parse(r.text), { error: 'unknown route' });
  r = await request(`${s.url}/nothing.html`);
  t.equal(r.status, 302);
  t.equal(r.headers.get('location'), '/');
  const old = await sim(t, { firmware: 'v2.8.0' });
  r = await request(`${old.url}/api/nothing`);
  t.equal(r.status, 302);
  t.equal(r.text, 'Redirect to the captive portal');
});

// AxeOS fault injection, at start-up and at runtime through the bench side channel, and the
// recovery path (serial flash) from a bricked device — in-process and with real `mvm` processes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildImage } from '../../runner/firmware/image.js';
import { startAxeosSim, type AxeosSim } from '../../sim/axeos/index.js';
import { parseFault } from '../../sim/common/faults.js';
import { runMvm, startMvm, stopAllMvm, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { getJson, manualClock, request, unreachable } from './support.js';

const FAST = { rebootDelayMs: 100, bootMs: 150 };

async function sim(t: Test, opts: Parameters<typeof startAxeosSim>[0] = {}): Promise<AxeosSim> {
  const s = await startAxeosSim({ ...FAST, ...opts });
  t.teardown(() => s.close());
  return s;
}

t.teardown(() => stopAllMvm());

t.test('slow delays replies; the side channel is never slowed', async (t) => {
  const s = await sim(t, { faults: ['slow=400'] });
  let start = Date.now();
  await getJson(`${s.url}/api/system/info`);
  t.ok(Date.now() - start >= 400, 'info took at least the injected delay');
  start = Date.now();
  await getJson(`${s.url}/__sim/state`);
  const r = await request(`${s.url}/__sim/fault`, { method: 'POST', json: { clear: ['slow'] } });
  t.same(JSON.parse(r.text), { faults: {} });
});

t.test('drop closes connections without a reply, evenly at the given ratio', async (t) => {
  const s = await sim(t, { faults: ['drop=1'] });
  t.ok(await unreachable(`${s.url}/api/system/info`));
  await request(`${s.url}/__sim/fault`, { method: 'POST', json: { set: ['drop=0.5'] } });
  const outcomes: boolean[] = [];
  for (let i = 0; i < 6; i++) outcomes.push(await unreachable(`${s.url}/api/system/info`));
  t.equal(outcomes.filter(Boolean).length, 3, `half dropped: ${outcomes}`);
});

t.test('flash-fail: the upload is refused at validation and the device keeps its firmware', async (t) => {
  const s = await sim(t, { firmware: 'v2.12.0', faults: ['flash-fail'] });
  const r = await request(`${s.url}/api/system/OTA`, { method: 'POST', body: buildImage({ version: 'v2.13.0' }) });
  t.equal(r.status, 500);
  t.equal(r.text, 'Validation / Activation Error');
  const info = await getJson(`${s.url}/api/system/info`);
  t.equal(info.version, 'v2.12.0');
  t.equal(info.runningPartition, 'factory');
});

t.test('brick: the OTA is acknowledged, the device stays dark until a serial flash', async (t) => {
  const s = await sim(t, { firmware: 'v2.12.0', faults: ['brick'] });
  const r = await request(`${s.url}/api/system/OTA`, { method: 'POST', body: buildImage({ version: 'v2.13.0' }) });
  t.equal(r.status, 200);
  await waitFor(() => s.device.power === 'dark', 'the device to go dark', 5000);
  t.ok(await unreachable(`${s.url}/api/system/info`));
  await request(`${s.url}/__sim/power-cycle`, { method: 'POST' });
  await waitFor(() => s.device.power === 'dark', 'a power cycle not to help', 5000);
  const state = await getJson(`${s.url}/__sim/state`);
  t.equal(state.power, 'dark');
  t.equal(state.running, 'ota_0');

  const refused = await request(`${s.url}/__sim/serial-flash`, { method: 'POST', body: Buffer.from('not an image') });
  t.equal(refused.status, 400);
  // A merged factory image: bootloader at 0x0, app at 0x10000.
  const merged = Buffer.alloc(0x10000 + 0x20000, 0xff);
  merged[0] = 0xe9;
  buildImage({ version: 'v2.12.1', size: 0x20000 }).copy(merged, 0x10000);
  const ok = await request(`${s.url}/__sim/serial-flash`, { method: 'POST', body: merged });
  t.equal(ok.status, 200);
  t.equal(JSON.parse(ok.text).version, 'v2.12.1');
  const info = await waitFor(async () => getJson(`${s.url}/api/system/info`), 'recovery', 5000);
  t.equal(info.version, 'v2.12.1');
  t.equal(info.runningPartition, 'factory');
});

t.test('an image whose version says "brick" bricks the device without any fault set', async (t) => {
  const s = await sim(t, { firmware: 'v2.15.0' });
  await request(`${s.url}/api/system/OTA`, { method: 'POST', body: buildImage({ version: 'v2.15.1-brick' }) });
  await waitFor(() => s.device.power === 'dark', 'dark', 5000);
  t.pass('dark');
});

t.test('reboot-loop: the device keeps restarting and never stays up', async (t) => {
  const s = await sim(t, { faults: ['reboot-loop=200'] });
  await waitFor(() => s.device.bootCount >= 3, 'three reboots', 10_000);
  await request(`${s.url}/__sim/fault`, { method: 'POST', json: { clear: ['reboot-loop'] } });
  const info = await waitFor(async () => getJson(`${s.url}/api/system/info`), 'the device up again', 5000);
  t.match(info.resetReason, /watchdog/);
});

t.test('overheat: temperatures climb, protection trips, hashing stops until cleared and restarted', async (t) => {
  const clock = manualClock();
  const s = await sim(t, { board: '601', firmware: 'v2.15.0', now: clock.now });
  const start = await getJson(`${s.url}/api/system/info`);
  t.equal(start.overheat_mode, 0);
  await request(`${s.url}/__sim/fault`, { method: 'POST', json: { set: ['overheat=1'] } });
  clock.advance(5000);
  const warm = await getJson(`${s.url}/api/system/info`);
  t.ok(warm.temp > start.temp + 3, `temperature climbs (${start.temp} → ${warm.temp})`);
  t.equal(warm.overheat_mode, 0);
  clock.advance(60_000);
  const hot = await getJson(`${s.url}/api/system/info`);
  t.equal(hot.overheat_mode, 1);
  t.equal(hot.hashRate, 0);
  t.equal(hot.fanspeed, 100);
  const shares = hot.sharesAccepted;
  clock.advance(60_000);
  t.equal((await getJson(`${s.url}/api/system/info`)).sharesAccepted, shares, 'no shares while protected');
  await request(`${s.url}/__sim/fault`, { method: 'POST', json: { clear: ['overheat'] } });
  const r = await request(`${s.url}/api/system`, { method: 'PATCH', json: { overheat_mode: 0 } });
  t.equal(r.status, 200);
  t.equal((await getJson(`${s.url}/api/system/info`)).hashRate, 0, 'the ASICs stay off until a restart');
  await request(`${s.url}/api/system/restart`, { method: 'POST' });
  await waitFor(() => s.device.bootCount === 1 && s.device.power === 'up', 'the restart', 5000);
  const cool = await getJson(`${s.url}/api/system/info`);
  t.equal(cool.overheat_mode, 0);
  t.ok(cool.hashRate > 0, 'hashing again once cleared and restarted');
});

t.test('the side channel rejects unknown faults with the list of valid ones', async (t) => {
  const s = await sim(t);
  const r = await request(`${s.url}/__sim/fault`, { method: 'POST', json: { set: ['meltdown'] } });
  t.equal(r.status, 400);
  t.match(JSON.parse(r.text).hint, /slow/);
});

t.test('real processes: mvm sim axeos with a fault, then mvm sim serial-flash recovers it', async (t) => {
  const dir = tempDir(t);
  const p = startMvm([
    'sim',
    'axeos',
    '--listen',
    '127.0.0.1:0',
    '--board',
    '401',
    '--firmware',
    'v2.12.0',
    '--fault',
    'brick',
    '--boot-ms',
    '200',
  ]);
  const line = await p.waitForLine(/^mvm sim axeos listening on /);
  const url = line.replace(/^mvm sim axeos listening on /, '');
  t.equal((await getJson(`${url}/api/system/info`)).boardVersion, '401');
  await request(`${url}/api/system/OTA`, { method: 'POST', body: buildImage({ version: 'v2.13.0' }) });
  await waitFor(async () => (await getJson(`${url}/__sim/state`)).power === 'dark', 'dark', 10_000);
  const image = join(dir, 'factory.bin');
  writeFileSync(image, buildImage({ version: 'v2.12.0' }));
  const flash = await runMvm(['sim', 'serial-flash', '--address', url, '--image', image]);
  t.equal(flash.code, 0, flash.stderr);
  t.match(flash.stdout, /version v2\.12\.0/);
  await waitFor(async () => (await getJson(`${url}/api/system/info`)).version === 'v2.12.0', 'recovered', 10_000);
  const bad = join(dir, 'bad.bin');
  writeFileSync(bad, 'nope');
  const refused = await runMvm(['sim', 'serial-flash', '--address', url, '--image', bad]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /mvm: error: serial flash refused/);
  const usage = await runMvm(['sim', 'axeos', '--fault', 'meltdown']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /unknown fault "meltdown"/);
  t.equal(await p.stop(), 0);
});

t.test('low-hashrate: the miner hashes at the given share of its expected rate; cleared, it recovers', async (t) => {
  const clock = manualClock();
  const s = await sim(t, { faults: ['low-hashrate=0.35'], now: clock.now });
  clock.advance(60_000);
  const low = await getJson(`${s.url}/api/system/info`);
  const ratio = low.hashRate / low.expectedHashrate;
  t.ok(ratio > 0.3 && ratio < 0.4, `hashes at about 35 % (${ratio})`);
  t.ok(low.hashRate_1m / low.expectedHashrate < 0.4, 'the averages follow');
  t.throws(() => parseFault('low-hashrate=2'), /takes a ratio between 0 and 1/);
  await request(`${s.url}/__sim/fault`, { method: 'POST', json: { clear: ['low-hashrate'] } });
  clock.advance(1000);
  const ok = await getJson(`${s.url}/api/system/info`);
  t.ok(ok.hashRate / ok.expectedHashrate > 0.9, 'back to the full rate');
});

t.test('nothing left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

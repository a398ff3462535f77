// The cgminer (Avalon Nano 3/3S) simulator over real TCP: framing, JSON and plain text, every
// command the runner uses with cgminer's codes, estats per model, the malformed-JSON quirks,
// faults, and `mvm sim cgminer` as a real process.
import t, { type Test } from 'tap';
import { startCgminerSim, type CgminerSim } from '../../sim/cgminer/index.js';
import { startMvm, stopAllMvm, waitFor } from '../helpers/mvm-process.js';
import { cgminerExchange, fixture, keyValues, manualClock, repairAvalonJson } from './support.js';

async function sim(t: Test, opts: Parameters<typeof startCgminerSim>[0] = {}): Promise<CgminerSim> {
  const s = await startCgminerSim({ rebootDelayMs: 100, bootMs: 200, ...opts });
  t.teardown(() => s.close());
  return s;
}

async function call(s: CgminerSim, command: string, parameter?: string): Promise<any> {
  const req = JSON.stringify(parameter === undefined ? { command } : { command, parameter });
  const { raw } = await cgminerExchange(s.port, req);
  return JSON.parse(raw.replace(/\0$/, ''));
}

async function stats(s: CgminerSim): Promise<Record<string, string>> {
  const r = await call(s, 'estats');
  const item = r.STATS[0];
  return keyValues(item['MM ID0:Summary'] ?? item['MM ID0']);
}

t.teardown(() => stopAllMvm());

t.test('JSON replies end with one NUL and the server closes; one request per connection', async (t) => {
  const s = await sim(t);
  const { raw, closedByServer } = await cgminerExchange(s.port, '{"command":"version"}');
  t.ok(raw.endsWith('\0'));
  t.equal(raw.indexOf('\0'), raw.length - 1, 'exactly one NUL, at the end');
  t.ok(closedByServer, 'the server closed the connection');
  const v = JSON.parse(raw.slice(0, -1));
  t.match(v, {
    STATUS: [{ STATUS: 'S', Code: 22, Msg: 'CGMiner versions', Description: 'cgminer 4.11.1' }],
    VERSION: [{ PROD: 'Avalon Nano3s', MODEL: 'Nano3s' }],
    id: 1,
  });
  const recorded = JSON.parse(fixture('avalon-version.json')).VERSION[0];
  for (const k of Object.keys(recorded)) t.ok(k in v.VERSION[0], `version has ${k}`);

  // Two requests in one write: read as one request (as cgminer's single recv does), one reply.
  const two = await cgminerExchange(s.port, '{"command":"summary"}{"command":"pools"}');
  t.equal(two.raw.split('\0').length, 2, 'one reply');
  t.ok(two.closedByServer);
});

t.test('plain-text requests get the plain-text format', async (t) => {
  const s = await sim(t);
  const { raw } = await cgminerExchange(s.port, 'summary|');
  t.match(
    raw,
    /^STATUS=S,When=\d+,Code=11,Msg=Summary,Description=cgminer 4\.11\.1\|SUMMARY,Elapsed=\d+,MHS av=[\d.]+,/,
  );
  t.ok(raw.endsWith('|\0'));
  const pools = (await cgminerExchange(s.port, 'pools')).raw;
  t.match(pools, /\|POOL=0,URL=stratum\+tcp:\/\/public-pool\.io:21496,Status=Alive,/);
  t.match(pools, /\|POOL=2,/);
  const est = (await cgminerExchange(s.port, 'estats')).raw;
  t.match(est, /\|STATS=0,ID=AVALON0,/);
  t.match(
    est,
    /SYSTEMSTATU\[Work: In Work, Hash Board: 1\]/,
    'the status string goes out raw, comma and all, as cgminer sends it',
  );
  t.match(pools, /,User=bc1qsimulated\.nano,/);
  const bad = (await cgminerExchange(s.port, 'frobnicate')).raw;
  t.match(bad, /^STATUS=E,When=\d+,Code=14,Msg=Invalid command,/);
  const badJson = await cgminerExchange(s.port, '{"command":');
  t.match(badJson.raw, /"Code":23,"Msg":"Invalid JSON"/);
});

t.test('replies carry the recorded sections and keys', async (t) => {
  const s = await sim(t);
  for (const [cmd, file, section] of [
    ['summary', 'avalon-summary.json', 'SUMMARY'],
    ['pools', 'avalon-pools.json', 'POOLS'],
    ['devs', 'avalon-devs.json', 'DEVS'],
    ['config', 'avalon-config.json', 'CONFIG'],
  ] as const) {
    const r = await call(s, cmd);
    const recorded = JSON.parse(fixture(file));
    t.equal(r.STATUS[0].Code, recorded.STATUS[0].Code, `${cmd} code`);
    const have = Object.keys(r[section][0]);
    const missing = Object.keys(recorded[section][0]).filter((k) => !have.includes(k));
    t.same(missing, [], `${cmd} has every recorded key`);
  }
  const pools = await call(s, 'pools');
  t.equal(pools.POOLS.length, 3);
  t.equal(pools.STATUS[0].Msg, '3 Pool(s)');
  const st = await call(s, 'stats');
  t.same(
    st.STATS.map((i: { ID: string }) => i.ID),
    ['AVALON0', 'POOL0', 'POOL1', 'POOL2'],
  );
  const lite = await call(s, 'litestats');
  t.same(Object.keys(lite.STATS[0]), ['MM ID0:Summary']);
});

t.test('Nano 3S estats: MM ID0:Summary with wall watts in PS[6], GHSspd, WORKMODE', async (t) => {
  const clock = manualClock();
  const s = await sim(t, { model: 'nano3s', now: clock.now });
  clock.advance(60_000);
  const kv = await stats(s);
  const ps = kv.PS!.split(' ').map(Number);
  t.equal(ps.length, 7);
  t.ok(ps[6]! > 120 && ps[6]! < 160, `wall watts ${ps[6]}`);
  t.ok(Math.abs(Number(kv.GHSspd) - 6500) / 6500 < 0.1, `GHSspd ${kv.GHSspd}`);
  t.equal(kv.WORKMODE, '2');
  t.match(kv.SYSTEMSTATU, /In Work/);
  t.equal(kv.Elapsed, '60');
  let r = await call(s, 'ascset', '0,workmode,set,0');
  t.match(r.STATUS[0], { STATUS: 'S', Code: 119, Msg: 'ASC 0 set OK' });
  const eco = await stats(s);
  t.equal(eco.WORKMODE, '0');
  t.ok(Number(eco.PS!.split(' ')[6]) < 110, 'eco draws less');
  t.ok(Number(eco.GHSspd) < 5000);
  r = await call(s, 'ascset', '0,workmode,set,7');
  t.match(r.STATUS[0], { STATUS: 'E', Code: 120 });
  r = await call(s, 'ascset', '0,help');
  t.match(r.STATUS[0], { STATUS: 'I', Code: 118, Msg: /^ASC 0 set info: help\|.*workmode/ });
});

t.test('Nano 3S on firmware 25021401: the bare "MM ID0" string, as recorded from a real device', async (t) => {
  const s = await sim(t, { model: 'nano3s', firmware: '25021401_56abae7' });
  const r = await call(s, 'estats');
  t.match(r.STATS[0], { ID: 'AVA100', 'MM Count': 1 });
  t.notOk('MM ID0:Summary' in r.STATS[0]);
  const raw = r.STATS[0]['MM ID0'] as string;
  t.match(raw, /^Ver\[Nano3s-25021401_56abae7\] LVer\[25021401_56abae7\] BVer\[25021401_56abae7\] FW\[Release\]/);
  const kv = keyValues(raw);
  t.equal(kv.ITemp, '-273', 'no inlet sensor on the Nano 3S');
  t.equal(kv.TarT, '90');
  t.ok(Number(kv.TAvg) > 80, `runs hot like the real one (TAvg ${kv.TAvg})`);
  t.equal(Number(kv.PS!.split(' ')[6]), Math.round(Number(kv.PS!.split(' ')[6])));
  const v = await call(s, 'version');
  t.equal(v.VERSION[0].LVERSION, '25021401_56abae7');
});

t.test('Nano 3 estats: MM ID0, WORKLEVEL, and a PS[6] that is not power', async (t) => {
  const s = await sim(t, { model: 'nano3' });
  const r = await call(s, 'estats');
  t.ok('MM ID0' in r.STATS[0]);
  t.notOk('MM ID0:Summary' in r.STATS[0]);
  const kv = keyValues(r.STATS[0]['MM ID0']);
  t.match(kv.Ver, /^nano3-/);
  t.ok(Number(kv.PS!.split(' ')[6]) > 1000, 'implausible as watts for a 140 W device');
  t.equal(kv.WORKLEVEL, '2');
  let a = await call(s, 'ascset', '0,workmode,set,1');
  t.match(a.STATUS[0], { STATUS: 'E', Msg: 'error:1 not support set workmode max_mode[0]' });
  a = await call(s, 'ascset', '0,worklevel,set,1');
  t.match(a.STATUS[0], { STATUS: 'S', Code: 119 });
  a = await call(s, 'ascset', '0,worklevel,get');
  t.match(a.STATUS[0], { STATUS: 'I', Code: 118, Msg: 'ASC 0 set info: worklevel 1' });
  a = await call(s, 'ascset', '0,worklevel,set,9');
  t.match(a.STATUS[0], { STATUS: 'E', Code: 120, Msg: 'ASC 0 set failed: worklevel unknown argument' });
  const v = await call(s, 'version');
  t.equal(v.VERSION[0].MODEL, 'Nano3');
});

t.test('softoff/softon stop and restart hashing, with the recorded reply format', async (t) => {
  const s = await sim(t);
  let r = await call(s, 'ascset', '0,softoff');
  t.match(r.STATUS[0], { STATUS: 'I', Code: 118, Msg: /^ASC 0 set info: success softoff:\d+$/ });
  t.equal(Number(r.STATUS[0].Msg.split(':').pop()) - r.STATUS[0].When, 5, 'softoff time is When + 5, as recorded');
  let kv = await stats(s);
  t.equal(kv.GHSspd, '0.00');
  t.match(kv.SYSTEMSTATU, /In Idle/);
  t.equal(kv.SoftOFF, '4');
  r = await call(s, 'ascset', '0,softon');
  t.match(r.STATUS[0].Msg, /^ASC 0 set info: success softon:\d+$/);
  kv = await stats(s);
  t.ok(Number(kv.GHSspd) > 0);
});

t.test('pools: switch, enable, disable, priority with cgminer codes; setpool applies after reboot', async (t) => {
  const s = await sim(t);
  let r = await call(s, 'switchpool', '1');
  t.match(r.STATUS[0], { STATUS: 'S', Code: 27, Msg: "Switching to pool 1:'stratum+tcp://solo.ckpool.org:3333'" });
  let p = await call(s, 'pools');
  t.equal(p.POOLS[1]['Stratum Active'], true);
  r = await call(s, 'switchpool', '5');
  t.match(r.STATUS[0], { STATUS: 'E', Code: 26 });
  r = await call(s, 'switchpool');
  t.match(r.STATUS[0], { STATUS: 'E', Code: 25 });
  r = await call(s, 'disablepool', '0');
  t.match(r.STATUS[0], { STATUS: 'S', Code: 48 });
  r = await call(s, 'disablepool', '0');
  t.match(r.STATUS[0], { STATUS: 'I', Code: 50 });
  r = await call(s, 'disablepool', '1');
  t.match(r.STATUS[0], { STATUS: 'E', Code: 51 }, 'the last active pool stays');
  r = await call(s, 'enablepool', '0');
  t.match(r.STATUS[0], { STATUS: 'S', Code: 47 });
  r = await call(s, 'poolpriority', '0,1');
  t.match(r.STATUS[0], { STATUS: 'S', Code: 73 });
  r = await call(s, 'poolpriority', '0,0');
  t.match(r.STATUS[0], { STATUS: 'E', Code: 74 });

  r = await call(s, 'setpool', 'root,root,0,stratum+tcp://new.pool:3333,w,x');
  t.match(r.STATUS[0], { STATUS: 'E', Code: 132, Msg: /^Pool set error: / }, 'the 3S web user is admin, not root');
  r = await call(s, 'setpool', 'admin,admin,0,stratum+tcp://new.pool:3333,w,x');
  t.match(r.STATUS[0], {
    STATUS: 'S',
    Code: 133,
    Msg: /^Pool set info: pool 0 set to stratum\+tcp:\/\/new\.pool:3333/,
  });
  p = await call(s, 'pools');
  t.equal(p.POOLS[0].URL, 'stratum+tcp://public-pool.io:21496', 'not before a reboot');
  r = await call(s, 'ascset', '0,reboot,0');
  t.match(r.STATUS[0], { STATUS: 'I', Code: 118, Msg: 'ASC 0 set info: reboot' });
  await waitFor(
    async () => (await cgminerExchange(s.port, '{"command":"pools"}')).raw === '',
    'the device to go down',
    5000,
  );
  await waitFor(() => s.device.bootCount === 1 && s.device.power === 'up', 'the reboot', 5000);
  p = await call(s, 'pools');
  t.equal(p.POOLS[0].URL, 'stratum+tcp://new.pool:3333');
  t.equal(p.POOLS[0].User, 'w');
});

t.test('quirks: inf/nan, a stray leading comma, glued objects — repairable, not parseable', async (t) => {
  const s = await sim(t, { quirks: true });
  for (const [req, pattern] of [
    ['{"command":"summary"}', /:inf\b.*:nan\b|:nan\b.*:inf\b/],
    ['{"command":"estats"}', /"STATS":\[,\{/],
    ['{"command":"stats"}', /\}\{"STATS":1/],
    ['{"command":"summary+pools"}', /\}\{"STATUS"/],
  ] as const) {
    const { raw } = await cgminerExchange(s.port, req);
    t.match(raw, pattern, `${req} is malformed the Avalon way`);
    t.throws(() => JSON.parse(raw.replace(/\0$/, '')), `${req} is not valid JSON`);
    t.ok(repairAvalonJson(raw), `${req} can be repaired`);
  }
  const normal = await sim(t, { quirks: false });
  const joined = JSON.parse((await cgminerExchange(normal.port, '{"command":"summary+pools"}')).raw.replace(/\0$/, ''));
  t.ok(joined.summary[0].SUMMARY && joined.pools[0].POOLS, 'without quirks, joined commands nest');
});

t.test('faults: slow, drop, reboot-loop, overheat', async (t) => {
  const slow = await sim(t, { faults: ['slow=300'] });
  const start = Date.now();
  await call(slow, 'summary');
  t.ok(Date.now() - start >= 300);

  const drop = await sim(t, { faults: ['drop=1'] });
  const dropped = await cgminerExchange(drop.port, '{"command":"summary"}');
  t.equal(dropped.raw, '', 'closed without a reply');

  const loop = await sim(t, { faults: ['reboot-loop=150'] });
  await waitFor(() => loop.device.bootCount >= 2, 'reboots', 10_000);
  t.pass('keeps rebooting');

  const clock = manualClock();
  const hot = await sim(t, { faults: ['overheat=2'], now: clock.now });
  const cold = Number((await stats(hot)).TMax);
  clock.advance(5000);
  const warm = Number((await stats(hot)).TMax);
  t.ok(warm >= cold + 8, `TMax climbs (${cold} → ${warm})`);
  clock.advance(60_000);
  const kv = await stats(hot);
  t.equal(kv.GHSspd, '0.00', 'protection stops hashing');
  t.match(kv.SYSTEMSTATU, /In Idle/);
});

t.test('real process: mvm sim cgminer --model nano3 --quirks', async (t) => {
  const p = startMvm(['sim', 'cgminer', '--listen', '127.0.0.1:0', '--model', 'nano3', '--quirks']);
  const line = await p.waitForLine(/^mvm sim cgminer listening on 127\.0\.0\.1:\d+$/);
  const port = Number(line.split(':').pop());
  const { raw } = await cgminerExchange(port, 'version');
  t.match(raw, /PROD=Avalon Nano3,/);
  t.equal(await p.stop(), 0);
  t.equal(await stopAllMvm(), 0);
});

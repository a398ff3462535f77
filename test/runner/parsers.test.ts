// The reply parsers against recorded real device replies (test/fixtures/devices, copied from the
// project's reference recordings) and against the malformed forms real Avalons send.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from '../../shared/paths.js';
import {
  mmString,
  parseBracketPairs,
  parseJsonReply,
  parseReply,
  parseTextReply,
  repairJson,
  statusOf,
  isErrorStatus,
} from '../../runner/drivers/cgminer/parse.js';
import { avalonModel, avalonPower, normaliseAvalon } from '../../runner/drivers/cgminer/avalon.js';
import { normaliseInfo, deviceInfo, expectedHashrate } from '../../runner/drivers/axeos/telemetry.js';
import { featuresFor, parseVersion } from '../../runner/drivers/axeos/version.js';
import { asicForBoard, modeSetting } from '../../runner/drivers/axeos/models.js';
import { normaliseNmminer, parseShares, parseSi, parseUptime } from '../../runner/drivers/nmminer/parse.js';
import { splitPoolUrl } from '../../runner/drivers/pools.js';
import type { DeviceSpec } from '../../runner/drivers/types.js';

const FIXTURES = projectPath('test', 'fixtures', 'devices');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const dev = (driver: DeviceSpec['driver']): DeviceSpec => ({ name: 'd', driver, address: 'x' });

t.test('every avalon fixture parses, with a success status', async (t) => {
  const files = readdirSync(FIXTURES).filter((f) => f.startsWith('avalon-'));
  t.ok(files.length >= 15);
  for (const f of files) {
    const text = fixture(f);
    const reply = parseReply(text);
    const st = statusOf(reply);
    t.ok(st, `${f} has a STATUS`);
    t.notOk(isErrorStatus(st), `${f} is not an error`);
    // The same reply NUL-terminated, as it arrives on the wire.
    t.same(parseReply(text + '\0'), reply, `${f} with a trailing NUL`);
  }
});

t.test('summary: accepted/rejected shares and elapsed', async (t) => {
  const reply = parseReply(fixture('avalon-summary.json'));
  const s = (reply.SUMMARY as Array<Record<string, unknown>>)[0];
  t.equal(s.Accepted, 890);
  t.equal(s.Rejected, 2);
  t.equal(s.Elapsed, 37714);
});

t.test('estats MM ID0 (Avalon 1246) Key[value] pairs', async (t) => {
  const reply = parseReply(fixture('avalon-avalon_a_stats.json'));
  const mm = parseBracketPairs(mmString(reply)!);
  t.equal(mm.GHSspd, '81072.68');
  t.equal(mm.GHSmm, '83923.04');
  t.equal(mm.PS, '0 1214 1316 242 3189 1320 3504');
  t.equal(mm.TMax, '77');
  t.equal(mm.FanR, '72%');
  t.equal(mm.WORKMODE, '1');
  t.equal(mm.SYSTEMSTATU, 'Work: In Work, Hash Board: 3');
  const tel = normaliseAvalon(dev('cgminer'), { estats: reply });
  t.equal(tel.hashrateGhs, 81072.68);
  t.equal(tel.expectedHashrateGhs, 83923.04);
  t.equal(tel.powerW, 3504, 'PS[6] is wall watts on models other than the Nano 3');
  t.equal(tel.efficiencyJth, Math.round((3504 / 81.07268) * 100) / 100);
  t.equal(tel.temperatures.chip_max, 77);
  t.equal(tel.temperatures.chip_avg, 65);
  t.same(
    tel.fans.map((f) => f.rpm),
    [5344, 5392, 5349, 5309],
  );
  t.equal(tel.fans[0].percent, 72);
  t.equal(tel.paused, false);
});

t.test('litestats/stats "MM ID0:Summary" (newer firmware) parse the same way', async (t) => {
  for (const f of ['avalon-litestats.json', 'avalon-stats.json']) {
    const reply = parseReply(fixture(f));
    const s = mmString(reply);
    t.ok(s, `${f} has an MM string`);
    const mm = parseBracketPairs(s!);
    t.equal(mm.GHSspd, '0.00');
    t.match(mm.PS, /^0 122\d 4 0 0 2245 146$/);
    t.equal(mm.WORKMODE, '0');
    t.equal(mm.WORKLEVEL, '0');
    t.equal(mm.MPO, '800');
    t.equal(mm.SoftOFF, '4');
    t.equal(mm.Ver, 'Q-25052801_14a19a2');
  }
});

t.test('power: Nano 3S reads PS[6] wall watts, Nano 3 reports unknown', async (t) => {
  t.equal(avalonPower('nano3s', '0 0 27541 4 0 3756 133'), 133);
  t.equal(avalonPower('nano3', '0 0 27541 4 0 3756 133'), null);
  t.equal(avalonPower('nano3s', '0 1 2'), null, 'too few values');
  t.equal(avalonModel(['Nano3s']), 'nano3s');
  t.equal(avalonModel(['Avalon Nano 3S']), 'nano3s');
  t.equal(avalonModel(['Nano3-24111401_xxx']), 'nano3');
  t.equal(avalonModel(['Avalon Q']), 'avalon');
  const reply = parseReply(fixture('avalon-litestats.json'));
  const nano3 = normaliseAvalon(dev('cgminer'), { estats: reply }, 'nano3');
  t.equal(nano3.powerW, null);
  t.equal(nano3.efficiencyJth, null);
  const nano3s = normaliseAvalon(
    dev('cgminer'),
    { estats: reply, summary: parseReply(fixture('avalon-summary.json')) },
    'nano3s',
  );
  t.equal(nano3s.powerW, 146);
  t.equal(nano3s.hashrateGhs, 0);
  t.equal(nano3s.efficiencyJth, null, 'no efficiency at zero hashrate');
  t.equal(nano3s.sharesAccepted, 890);
  t.equal(nano3s.uptimeS, 37714);
  t.equal(nano3s.paused, true, 'SoftOFF[4] means soft-off');
  const sentinel = normaliseAvalon(dev('cgminer'), {
    estats: parseReply('{"STATUS":[{"STATUS":"S"}],"STATS":[{"MM ID0":"ITemp[-273] TMax[71]"}]}'),
  });
  t.same(sentinel.temperatures, { chip_max: 71 }, 'an absent sensor (-273) is left out');
});

t.test('pools, version and ascset replies', async (t) => {
  const pools = parseReply(fixture('avalon-pools.json')).POOLS as Array<Record<string, unknown>>;
  t.equal(pools[0].URL, 'stratum+tcp://pool.example.com:4444');
  t.equal(pools[0].User, 'worker1');
  const v = (parseReply(fixture('avalon-version.json')).VERSION as Array<Record<string, unknown>>)[0];
  t.equal(v.PROD, 'Avalon Q');
  t.equal(statusOf(parseReply(fixture('avalon-ascset_workmode.json')))?.Code, 119);
  t.match(statusOf(parseReply(fixture('avalon-ascset_softoff.json')))?.Msg, /softoff/);
  t.match(statusOf(parseReply(fixture('avalon-ascset_help.json')))?.Msg, /workmode\|worklevel/);
});

t.test('malformed Avalon JSON is repaired', async (t) => {
  t.same(JSON.parse(repairJson('{"a":inf,"b":-inf,"c":nan}')), { a: null, b: null, c: null });
  t.same(JSON.parse(repairJson('{"s":"inf nan stays","x":1,}')), { s: 'inf nan stays', x: 1 });
  t.same(JSON.parse(repairJson(',{"a":[1,2,],}')), { a: [1, 2] });
  t.same(JSON.parse(repairJson('{,"a":1}')), { a: 1 });
  const glued = parseJsonReply(
    '{"STATUS":[{"STATUS":"S","Msg":"a"}],"id":1}{"STATUS":[{"STATUS":"S","Msg":"b"}],"id":1}\0',
  );
  t.equal(glued.length, 2);
  t.equal(statusOf(glued[1])?.Msg, 'b');
  const r = parseReply(
    '{"STATUS":[{"STATUS":"S","Code":70}],"STATS":[{"MM ID0":"GHSspd[5.5] PS[0 1 2 3 4 5 99]","x":inf}],"id":1}{"id":2}',
  );
  t.equal(parseBracketPairs(mmString(r)!).GHSspd, '5.5');
  const inArray = parseReply('{"STATUS":[{"STATUS":"S"}],"STATS":[{"ID":"AVALON0"}{"ID":"POOL0"}],"id":1}');
  t.same(
    (inArray.STATS as Array<{ ID: string }>).map((x) => x.ID),
    ['AVALON0', 'POOL0'],
    'objects glued inside an array',
  );
  t.throws(() => parseReply('garbage'), /unrecognised reply/);
  t.throws(() => parseReply('{"a":'), /not JSON/);
});

t.test('plain-text replies', async (t) => {
  const r = parseTextReply(
    'STATUS=S,When=1753431516,Code=11,Msg=Summary,Description=cgminer 4.11.1|SUMMARY,Elapsed=37714,MHS av=44539601.86,Accepted=890,Rejected=2|\0',
  );
  t.equal(statusOf(r)?.STATUS, 'S');
  t.equal(statusOf(r)?.Code, 11);
  const s = (r.SUMMARY as Array<Record<string, unknown>>)[0];
  t.equal(s.Accepted, 890);
  t.equal(s['MHS av'], 44539601.86);
  t.equal(statusOf(parseReply("STATUS=E,When=1,Code=45,Msg=Access denied to 'setpool' command|"))?.STATUS, 'E');
  t.ok(isErrorStatus(statusOf(parseReply('STATUS=E,Code=14,Msg=Invalid command|'))));
  // Escaped values, list items opening with their id, and a raw Avalon status string with commas.
  const pools = parseTextReply(
    'STATUS=S,When=1,Code=7,Msg=2 Pool(s),Description=cgminer 4.11.1|POOL=0,URL=stratum+tcp://a.example:3333,User=w\\,1,Status=Alive|POOL=1,URL=,User=,Status=Dead|\0',
  );
  t.same(
    (pools.POOLS as Array<Record<string, unknown>>).map((p) => [p.POOL, p.URL, p.User]),
    [
      [0, 'stratum+tcp://a.example:3333', 'w,1'],
      [1, '', ''],
    ],
  );
  const stats = parseTextReply(
    "STATUS=S,Code=70,Msg=CGMiner stats|STATS=0,ID=AVALON0,MM ID0:Summary='STATS':{Ver[Nano3s-1] SYSTEMSTATU[Work: In Work, Hash Board: 1] GHSspd[6400.12] PS[0 0 27541 4 0 3756 138]},Elapsed=10|",
  );
  const mm = parseBracketPairs(mmString(stats)!);
  t.equal(mm.SYSTEMSTATU, 'Work: In Work, Hash Board: 1');
  t.equal(mm.GHSspd, '6400.12');
  t.equal((stats.STATS as Array<Record<string, unknown>>)[0].Elapsed, 10);
});

t.test('Bitaxe v2.0.0 system info normalises', async (t) => {
  const info = JSON.parse(fixture('bitaxe-v2_0_0-system_info.json'));
  const tel = normaliseInfo(dev('axeos'), info);
  t.equal(tel.hashrateGhs, 1000);
  t.equal(tel.expectedHashrateGhs, 625.24, 'smallCoreCount × asicCount × MHz / 1000');
  t.equal(tel.powerW, 2.65000009536743);
  t.equal(tel.efficiencyJth, 2.65);
  t.same(tel.temperatures, { chip: 59.875, vr: 78 });
  t.same(tel.fans, [{ name: 'fan1', rpm: 3517, percent: 35 }]);
  t.equal(tel.sharesAccepted, 0);
  t.equal(tel.uptimeS, 4);
  t.equal(tel.firmwareVersion, 'v2.4.5-3-gb5d1e36-dirty');
  t.equal(tel.paused, null, 'no miningPaused before v2.14');
  const di = deviceInfo(dev('axeos'), info);
  t.equal(di.model, 'Bitaxe Supra');
  t.equal(di.hardware, '401');
  t.equal(expectedHashrate({ expectedHashrate: 1200 }), 1200);
});

t.test('AxeOS firmware generations', async (t) => {
  t.same(parseVersion('v2.4.5-3-gb5d1e36-dirty'), [2, 4, 5]);
  t.same(parseVersion('2.15'), [2, 15, 0]);
  t.equal(parseVersion('dev'), undefined);
  t.same(featuresFor('v2.4.5'), {
    poolsApi: false,
    fallbackSwitch: false,
    restartJson: false,
    pause: false,
    bootPartition: false,
  });
  t.same(featuresFor('v2.10.1'), {
    poolsApi: false,
    fallbackSwitch: false,
    restartJson: false,
    pause: false,
    bootPartition: false,
  });
  t.same(featuresFor('v2.12.0'), {
    poolsApi: false,
    fallbackSwitch: true,
    restartJson: false,
    pause: false,
    bootPartition: false,
  });
  t.same(featuresFor('v2.13.1'), {
    poolsApi: false,
    fallbackSwitch: true,
    restartJson: true,
    pause: false,
    bootPartition: false,
  });
  t.same(featuresFor('v2.14.0'), {
    poolsApi: false,
    fallbackSwitch: true,
    restartJson: true,
    pause: true,
    bootPartition: false,
  });
  t.same(featuresFor('v2.15.0'), {
    poolsApi: true,
    fallbackSwitch: true,
    restartJson: true,
    pause: true,
    bootPartition: true,
  });
  t.equal(featuresFor('v1.0.30', { nerdqaxe: true }).poolsApi, false);
  t.equal(featuresFor('v1.0.30', { nerdqaxe: true }).fallbackSwitch, false, 'NerdQAxe++ ignores useFallbackStratum');
  t.equal(featuresFor('v2.15.0', { override: '2.12' }).poolsApi, false);
  t.equal(asicForBoard('601'), 'BM1370');
  t.equal(asicForBoard('401'), 'BM1368');
  t.equal(asicForBoard('204'), 'BM1366');
  t.equal(asicForBoard('102'), 'BM1397');
  t.same(modeSetting('standard', 'BM1370'), { frequency: 525, coreVoltage: 1150 });
});

t.test('NMMiner datagrams: SI strings, key case, uptime, shares', async (t) => {
  t.equal(parseSi('113.13K'), 113130);
  t.equal(parseSi('1.0154MH/s'), 1015400);
  t.equal(parseSi('89.47T'), 89.47e12);
  t.equal(parseSi('12'), 12);
  t.equal(parseSi('fast'), null);
  t.equal(parseUptime('00d 01:23:46'), 5026);
  t.equal(parseUptime('2d 00:00:01'), 172801);
  t.same(parseShares('1/138'), { rejected: 1, accepted: 138 });
  const upper = normaliseNmminer(dev('nmminer'), {
    IP: '192.168.1.101',
    BoardType: 'NMLotto',
    HashRate: '113.13K',
    Share: '1/138',
    Temp: 48.5,
    Uptime: '00d 01:23:46',
    Version: 'v0.3.01',
  });
  const lower = normaliseNmminer(dev('nmminer'), {
    ip: '192.168.1.101',
    boardtype: 'NMLotto',
    hashrate: '113.13K',
    share: '1/138',
    temp: 48.5,
    uptime: '00d 01:23:46',
    version: 'v0.3.01',
  });
  t.same({ ...upper, raw: null, at: null }, { ...lower, raw: null, at: null });
  t.equal(upper.hashrateGhs, 113130 / 1e9);
  t.equal(upper.powerW, null);
  t.same(upper.temperatures, { chip: 48.5 });
  t.equal(upper.uptimeS, 5026);
});

t.test('pool URLs', async (t) => {
  t.same(splitPoolUrl({ url: 'stratum+tcp://pool.example.com:3333', user: 'u' }), {
    scheme: 'stratum+tcp',
    host: 'pool.example.com',
    port: 3333,
  });
  t.same(splitPoolUrl({ url: 'pool.example.com', port: 4444, user: 'u' }), {
    scheme: 'stratum+tcp',
    host: 'pool.example.com',
    port: 4444,
  });
  t.throws(() => splitPoolUrl({ url: 'stratum+tcp://pool.example.com', user: 'u' }), /needs a host and a port/);
});

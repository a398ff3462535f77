// The Avalon's `Key[value]` status string (estats/stats/litestats). Field order and values follow
// recorded devices: a Nano 3S on 25021401 ("MM ID0", bare), an Avalon Q on 25052801
// ("MM ID0:Summary", wrapped in 'STATS':{…}, more fields). The Nano 3S PS[] ends with wall watts;
// the Nano 3's PS[6] is not a power reading.
import { round, smoothNoise } from '../common/drift.js';
import type { CgminerDevice } from './device.js';

type Pair = [string, string | number];

function kv(pairs: Pair[]): string {
  return pairs.map(([k, v]) => `${k}[${v}]`).join(' ');
}

export function statusString(dev: CgminerDevice, t: number): string {
  const m = dev.model;
  const fw = dev.firmware;
  const wrapped = dev.summaryKey === 'MM ID0:Summary';
  const hashing = dev.hashing(t);
  const e = dev.elapsed(t);
  const spd = dev.ghsSpeed(t);
  const avg = dev.ghsAverage();
  const level = m.levels[dev.level]!;
  const tmax = Math.round(dev.tempMax(t));
  const tavg = Math.round(dev.tempAvg(t));
  const fanR = dev.fanPercent(t);
  const fanRpm = Math.round(fanR * 46 + 20 * smoothNoise(7, t, 5000));
  const watts = Math.round(dev.wallWatts(t));
  const freq = hashing ? level.freq : 0;
  const work = hashing ? 'Work: In Work, Hash Board: 1' : 'Work: In Idle, Hash Board: 1';
  const dh = hashing ? `${round(2.3 + 0.4 * smoothNoise(9, t, 20000), 3)}%` : '0.000%';
  const ps =
    m.id === 'nano3s'
      ? `0 0 ${27400 + Math.round(150 * smoothNoise(12, t, 7000))} ${hashing ? 4 : 0} 0 ${3700 + Math.round(60 * smoothNoise(13, t, 9000))} ${watts}`
      : // PS[6] on the Nano 3 reads thousands on a 140 W device: not wall power.
        `0 1214 1316 242 3189 1320 ${3400 + Math.round(100 * smoothNoise(11, t, 9000))}`;

  const head: Pair[] = [
    ['Ver', `${m.verPrefix}-${fw}`],
    ['LVer', fw],
    ['BVer', fw],
  ];
  if (wrapped) head.push(['HashMcu0Ver', 'N_hb_v1.1'], ['FanMcuVer', 'N_fb_v1.1'], ['CPU', 'K230']);
  const pairs: Pair[] = [
    ...head,
    ['FW', 'Release'],
    ['LED', '0-0'],
    ['LEDUser', '0-100-100-5-0-255'],
    ['LcdOnoff', 1],
    ['LcdSwitch', 2],
    ['DNA', m.id === 'nano3s' ? '020100003cbe4d15' : '020100007b1c2d3e'],
    ...(wrapped
      ? ([
          ['STATE', 2],
          ['MEMFREE', 67896],
          ['NETFAIL', '0 0 0 0 0 0 0 0'],
          ['SSID', 'lab'],
          ['RSSI', -52],
          ['NetDevType', 1],
        ] as Pair[])
      : ([
          ['MEMFREE', 63728],
          ['PFCnt', 0],
          ['NETFAIL', '0 0 0 0 0 0 0 0'],
        ] as Pair[])),
    ['SYSTEMSTATU', work],
    ['Elapsed', e],
    ['BOOTBY', '0x01.00000000'],
    ['LW', Math.floor(e * 773.3)],
    ['MH', 0],
    ['DHW', 0],
    ['HW', 0],
    ['DH', dh],
    ['ITemp', -273],
    ['OTemp', hashing ? Math.round(tavg * 0.72) : 30],
    ...(wrapped
      ? ([
          ['HBITemp', 30],
          ['HBOTemp', Math.round(tavg * 0.7)],
        ] as Pair[])
      : []),
    ['TMax', tmax],
    ['TAvg', tavg],
    ['TarT', dev.targetTemp],
    ['Fan1', fanRpm],
    ['FanR', `${fanR}%`],
    ...(wrapped
      ? ([
          ['SoftOffTime', dev.softOffTime],
          ['SoftOnTime', dev.softOnTime],
          ['Filter', 0],
          ['FanErr', 0],
          ['SoloAllowed', 1],
        ] as Pair[])
      : []),
    ['PS', ps],
    ...(wrapped ? ([['PCOMM_E', 0]] as Pair[]) : []),
    ['GHSspd', spd.toFixed(2)],
    ['DHspd', dh],
    ['GHSmm', (level.ghs * 1.03).toFixed(2)],
    ['GHSavg', avg.toFixed(2)],
    ['WU', (avg * 13.97).toFixed(2)],
    ['Freq', freq.toFixed(2)],
    ['MGHS', avg.toFixed(2)],
    ['MTmax', tmax],
    ['MTavg', tavg],
    ['TA', 12],
    ['Core', m.core],
    ['BIN', 60],
    ['PING', 78],
    ['SoftOFF', dev.softOff ? 4 : 0],
    ['ECHU', 0],
    ['ECMM', 0],
    ['PLL0', '499 254 423 648'],
    ['SF0', '432 450 471 492'],
    ['CRC', 0],
    ['COMCRC', 0],
    ['ATA2', `-5000-${dev.targetTemp}-16-500-0`],
    ...(wrapped ? ([['Activation', 0]] as Pair[]) : []),
    ['WORKMODE', m.levelKey === 'workmode' ? dev.level : 0],
    ['WORKLEVEL', m.levelKey === 'worklevel' ? dev.level : 0],
    ['MPO', m.levels[m.levels.length - 1]!.watts],
    ['CALIALL', 7],
    ['ADJ', 1],
    ['Nonce Mask', 25],
  ];
  const text = kv(pairs);
  return wrapped ? `'STATS':{${text}}` : text;
}

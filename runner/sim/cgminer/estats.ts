// The Avalon's `Key[value]` status string (estats/stats/litestats), per model: the Nano 3S puts it
// under "MM ID0:Summary" wrapped in 'STATS':{…} with PS[…, wall watts]; the Nano 3 under "MM ID0"
// with a PS[] whose 7th value is not a power reading.
import { round, smoothNoise } from '../common/drift.js';
import type { CgminerDevice } from './device.js';

function kv(pairs: [string, string | number][]): string {
  return pairs.map(([k, v]) => `${k}[${v}]`).join(' ');
}

export function statusString(dev: CgminerDevice, t: number): string {
  const m = dev.model;
  const hashing = dev.hashing(t);
  const e = dev.elapsed(t);
  const spd = dev.ghsSpeed(t);
  const avg = dev.ghsAverage();
  const tmax = Math.round(dev.tempMax(t));
  const tavg = Math.round(dev.tempAvg(t));
  const fanR = dev.fanPercent(t);
  const fanRpm = Math.round(fanR * 42 + 20 * smoothNoise(7, t, 5000));
  const watts = Math.round(dev.wallWatts(t));
  const freq = hashing ? m.levels[dev.level]!.freq : 0;
  const work = hashing ? 'Work: In Work, Hash Board: 1' : 'Work: In Idle, Hash Board: 1';
  const dh = hashing ? `${round(1.2 + 0.4 * smoothNoise(9, t, 20000), 3)}%` : '0.000%';
  if (m.summaryKey === 'MM ID0:Summary') {
    const body = kv([
      ['Ver', `${m.model}-${m.firmware}`], ['LVer', m.firmware], ['BVer', m.firmware], ['HashMcu0Ver', 'N_hb_v1.1'],
      ['FanMcuVer', 'N_fb_v1.1'], ['CPU', 'K230'], ['FW', 'Release'], ['DNA', '020100003cbe4d15'], ['STATE', 2],
      ['MEMFREE', 67896], ['NETFAIL', '0 0 0 0 0 0 0 0'], ['SSID', 'lab'], ['RSSI', -52], ['NetDevType', 1],
      ['SYSTEMSTATU', work], ['Elapsed', e], ['BOOTBY', '0x04.00000000'], ['LW', Math.floor(e * 52.7)], ['MH', 0],
      ['DHW', 0], ['HW', 0], ['DH', dh], ['ITemp', 28], ['HBITemp', 30], ['HBOTemp', Math.round(tavg * 0.7)],
      ['TMax', tmax], ['TAvg', tavg], ['TarT', dev.targetTemp], ['Fan1', fanRpm], ['FanR', `${fanR}%`],
      ['SoftOffTime', dev.softOffTime], ['SoftOnTime', dev.softOnTime], ['Filter', 0], ['FanErr', 0], ['SoloAllowed', 1],
      ['PS', `0 0 27541 ${hashing ? 4 : 0} 0 3756 ${watts}`], ['PCOMM_E', 0], ['GHSspd', spd.toFixed(2)], ['DHspd', dh],
      ['GHSmm', (m.levels[dev.level]!.ghs * 1.02).toFixed(2)], ['GHSavg', avg.toFixed(2)], ['WU', (avg * 13.9).toFixed(2)],
      ['Freq', freq.toFixed(2)], ['MGHS', avg.toFixed(2)], ['TA', 10], ['Core', m.core], ['BIN', 36], ['PING', 17],
      ['SoftOFF', dev.softOff ? 4 : 0], ['ECHU', 0], ['ECMM', 0], ['PLL0', '8843 5769 5098 4610'], ['SF0', '258 276 297 318'],
      ['CRC', 0], ['COMCRC', 0], ['ATA0', '800-65-2264-258-20'], ['LcdOnoff', 1], ['Activation', 0],
      ['WORKMODE', dev.level], ['WORKLEVEL', 0], ['MPO', m.levels[2]!.watts], ['CALIALL', 7], ['ADJ', 1], ['Nonce Mask', 25],
    ]);
    return `'STATS':{${body}}`;
  }
  return kv([
    ['Ver', `${m.model}-${m.firmware}`], ['DNA', '020100007b1c2d3e'], ['MEMFREE', 1201472.0], ['NETFAIL', '0 0 0 0 0 0 0 0'],
    ['SYSTEMSTATU', `${work} `], ['Elapsed', e], ['BOOTBY', '0x08.00000000'], ['LW', Math.floor(e * 40.2)], ['MH', 0], ['HW', 0],
    ['DH', dh], ['Temp', 28], ['TMax', tmax], ['TAvg', tavg], ['Fan1', fanRpm], ['FanR', `${fanR}%`], ['Vo', 329],
    // PS[6] on the Nano 3 is not wall power (it reads thousands on a 140 W device).
    ['PS', `0 1214 1316 242 3189 1320 ${3400 + Math.round(100 * smoothNoise(11, t, 9000))}`],
    ['PLL0', '1796 4524 5435 2165'], ['GHSspd', spd.toFixed(2)], ['DHspd', dh], ['GHSmm', (m.levels[dev.level]!.ghs * 1.02).toFixed(2)],
    ['GHSavg', avg.toFixed(2)], ['WU', (avg * 13.9).toFixed(2)], ['Freq', freq.toFixed(2)], ['Led', 1], ['MGHS', avg.toFixed(2)],
    ['MTmax', tmax], ['MTavg', tavg], ['TA', 10], ['Core', m.core], ['PING', 443], ['POWS', 0], ['HASHS', 0], ['POOLS', 0],
    ['SoftOFF', dev.softOff ? 4 : 0], ['ECHU', 0], ['ECMM', 0], ['SF0', '472 492 512 532'], ['CRC', 0], ['POW_I2C', 'OK'],
    ['FACOPTS0', ''], ['ATAOPTS0', '--avalon10-freq 472:492:512:532 --avalon10-voltage-level 55 '], ['ADJ', 1], ['COP', 0],
    ['MPO', m.levels[2]!.watts], ['MVL', 87], ['ATABD0', '472 492 512 532'], ['WORKLEVEL', dev.level],
  ]);
}

// The cgminer API commands an Avalon Nano answers, with cgminer's status codes. A request is
// parsed from JSON ({"command","parameter"}) or plain text (`command|parameter`); the reply is a
// status plus named sections, serialised by format.ts.
import type { CgminerDevice } from './device.js';
import { statusString } from './estats.js';

export type StatusLetter = 'S' | 'I' | 'W' | 'E' | 'F';
export type Item = Record<string, unknown>;

export interface Reply {
  status: { STATUS: StatusLetter; When: number; Code: number; Msg: string; Description: string };
  sections: [string, Item[]][];
  /** Close the connection without answering (softon on some builds: it worked all the same). */
  silent?: boolean;
}

export interface Request {
  command: string;
  parameter: string;
  json: boolean;
}

const DESCRIPTION = 'cgminer 4.11.1';

/** Parses what arrived on the socket; undefined `command` means the JSON was invalid. */
export function parseRequest(text: string): Request | { json: true; invalid: true } {
  const s = text.replace(/\0+$/, '').trim();
  if (s.startsWith('{')) {
    try {
      const o = JSON.parse(s) as { command?: unknown; parameter?: unknown };
      return {
        command: String(o.command ?? ''),
        parameter: o.parameter === undefined ? '' : String(o.parameter),
        json: true,
      };
    } catch {
      return { json: true, invalid: true };
    }
  }
  const bar = s.indexOf('|');
  return bar === -1
    ? { command: s, parameter: '', json: false }
    : { command: s.slice(0, bar), parameter: s.slice(bar + 1), json: false };
}

function reply(
  dev: CgminerDevice,
  letter: StatusLetter,
  code: number,
  msg: string,
  sections: [string, Item[]][] = [],
): Reply {
  return {
    status: { STATUS: letter, When: Math.floor(dev.t() / 1000), Code: code, Msg: msg, Description: DESCRIPTION },
    sections,
  };
}

export function invalidJson(dev: CgminerDevice): Reply {
  return reply(dev, 'E', 23, 'Invalid JSON');
}

function poolItem(dev: CgminerDevice, i: number): Item {
  const p = dev.pools[i]!;
  const active = dev.activePool() === i && dev.hashing();
  const accepted = active ? dev.accepted() : 0;
  const rejected = active ? dev.rejected() : 0;
  return {
    POOL: i,
    URL: p.url,
    Status: !p.enabled ? 'Disabled' : p.url ? 'Alive' : 'Dead',
    Priority: dev.priority.indexOf(i),
    Quota: 1,
    'Long Poll': 'N',
    Getworks: active ? Math.floor(dev.elapsed() / 30) : 0,
    Accepted: accepted,
    Rejected: rejected,
    Works: accepted * 107,
    Discarded: 0,
    Stale: 0,
    'Get Failures': 0,
    'Remote Failures': 0,
    User: p.user,
    Password: p.pass,
    'Last Share Time': active ? Math.floor(dev.t() / 1000) - 7 : 0,
    'Diff1 Shares': accepted * dev.shareDifficulty(),
    'Proxy Type': '',
    Proxy: '',
    'Difficulty Accepted': accepted * dev.shareDifficulty(),
    'Difficulty Rejected': rejected * dev.shareDifficulty(),
    'Difficulty Stale': 0,
    'Last Share Difficulty': active ? dev.shareDifficulty() : 0,
    'Work Difficulty': active ? dev.shareDifficulty() : 0,
    'Has Stratum': true,
    'Stratum Active': active,
    'Stratum URL': active ? p.url : '',
    'Stratum Difficulty': active ? dev.shareDifficulty() : 0,
    'Has Vmask': true,
    'Has GBT': false,
    'Best Share': active ? accepted * dev.shareDifficulty() * 3 : 0,
    'Pool Rejected%': accepted + rejected > 0 ? Number(((rejected / (accepted + rejected)) * 100).toFixed(4)) : 0,
    'Pool Stale%': 0,
    'Bad Work': 0,
    'Current Block Height': 925_000,
    'Current Block Version': 536870912,
  };
}

function summaryItem(dev: CgminerDevice): Item {
  const t = dev.t();
  const accepted = dev.accepted();
  const rejected = dev.rejected();
  const e = dev.elapsed(t);
  const mhsAv = dev.ghsAverage() * 1000;
  const spd = dev.ghsSpeed(t) * 1000;
  return {
    Elapsed: e,
    'MHS av': Number(mhsAv.toFixed(2)),
    'MHS 5s': Number(spd.toFixed(2)),
    'MHS 1m': Number((spd * 1.003).toFixed(2)),
    'MHS 5m': Number((mhsAv * 0.998).toFixed(2)),
    'MHS 15m': Number((mhsAv * 1.001).toFixed(2)),
    'Found Blocks': 0,
    Getworks: Math.floor(e / 30),
    Accepted: accepted,
    Rejected: rejected,
    'Hardware Errors': 0,
    Utility: e > 0 ? Number(((accepted / e) * 60).toFixed(2)) : 0,
    Discarded: 0,
    Stale: 0,
    'Get Failures': 0,
    'Local Work': accepted * 107,
    'Remote Failures': 0,
    'Network Blocks': Math.floor(e / 600),
    'Total MH': Number((mhsAv * e).toFixed(0)),
    'Work Utility': e > 0 ? Number((((accepted * 107) / e) * 60).toFixed(2)) : 0,
    'Difficulty Accepted': accepted * dev.shareDifficulty(),
    'Difficulty Rejected': rejected * dev.shareDifficulty(),
    'Difficulty Stale': 0,
    'Best Share': accepted * dev.shareDifficulty() * 3,
    'Device Hardware%': 0,
    'Device Rejected%': accepted + rejected > 0 ? Number(((rejected / (accepted + rejected)) * 100).toFixed(4)) : 0,
    'Pool Rejected%': accepted + rejected > 0 ? Number(((rejected / (accepted + rejected)) * 100).toFixed(4)) : 0,
    'Pool Stale%': 0,
    'Last getwork': 0,
  };
}

function devItem(dev: CgminerDevice): Item {
  const t = dev.t();
  const accepted = dev.accepted();
  const mhsAv = dev.ghsAverage() * 1000;
  return {
    ASC: 0,
    Name: 'AVALON',
    ID: 0,
    Enabled: 'Y',
    Status: 'Alive',
    Temperature: 0.0,
    'MHS av': Number(mhsAv.toFixed(2)),
    'MHS 5s': Number((dev.ghsSpeed(t) * 1000).toFixed(2)),
    'MHS 1m': Number((mhsAv * 1.002).toFixed(2)),
    'MHS 5m': Number(mhsAv.toFixed(2)),
    'MHS 15m': Number(mhsAv.toFixed(2)),
    Accepted: accepted,
    Rejected: dev.rejected(),
    'Hardware Errors': 0,
    Utility: dev.elapsed(t) > 0 ? Number(((accepted / dev.elapsed(t)) * 60).toFixed(2)) : 0,
    'Last Share Pool': dev.activePool() ?? -1,
    'Last Share Time': Math.floor(t / 1000) - 7,
    'Total MH': Number((mhsAv * dev.elapsed(t)).toFixed(0)),
    'Diff1 Work': accepted * dev.shareDifficulty(),
    'Difficulty Accepted': accepted * dev.shareDifficulty(),
    'Difficulty Rejected': dev.rejected() * dev.shareDifficulty(),
    'Last Share Difficulty': dev.shareDifficulty(),
    'Last Valid Work': Math.floor(t / 1000) - 7,
    'Device Hardware%': 0,
    'Device Rejected%': 0,
    'Device Elapsed': dev.elapsed(t),
  };
}

function statsItem(dev: CgminerDevice): Item {
  const t = dev.t();
  // Recorded: bare "MM ID0" builds report ID AVA100 and MM Count; ":Summary" builds ID AVALON0.
  const bare = dev.summaryKey === 'MM ID0';
  const item: Item = {
    STATS: 0,
    ID: bare && dev.model.id === 'nano3s' ? 'AVA100' : dev.model.statsId,
    Elapsed: dev.elapsed(t),
    Calls: 0,
    Wait: 0.0,
    Max: 0.0,
    Min: 99999999.0,
  };
  item[dev.summaryKey] = statusString(dev, t);
  if (bare)
    Object.assign(item, {
      'MM Count': 1,
      'Smart Speed': 1,
      'Connection Overloaded': false,
      'Voltage Level Offset': 0,
      'Nonce Mask': 25,
    });
  return item;
}

function poolStatsItems(dev: CgminerDevice): Item[] {
  return dev.pools.map((_, i) => ({
    STATS: i + 1,
    ID: `POOL${i}`,
    Elapsed: dev.elapsed(),
    Calls: 0,
    Wait: 0.0,
    Max: 0.0,
    Min: 99999999.0,
    'Pool Calls': 0,
    'Pool Attempts': 0,
    'Pool Wait': 0.0,
    'Pool Max': 0.0,
    'Pool Min': 99999999.0,
    'Pool Av': 0.0,
    'Work Had Roll Time': false,
    'Work Can Roll': false,
    'Work Had Expire': false,
    'Work Roll Time': 0,
    'Work Diff': dev.activePool() === i ? dev.shareDifficulty() : 0.0,
    'Min Diff': 0.0,
    'Max Diff': 0.0,
    'Min Diff Count': 0,
    'Max Diff Count': 0,
    'Times Sent': 0,
    'Bytes Sent': 0,
    'Times Recv': 0,
    'Bytes Recv': 0,
    'Net Bytes Sent': 0,
    'Net Bytes Recv': 0,
  }));
}

function poolId(dev: CgminerDevice, param: string): number | Reply {
  if (param.trim() === '') return reply(dev, 'E', 25, 'Missing pool id parameter');
  const id = Number(param.split(',')[0]);
  if (!Number.isInteger(id) || id < 0 || id >= dev.pools.length)
    return reply(dev, 'E', 26, `Invalid pool id ${param} - range is 0 - ${dev.pools.length - 1}`);
  return id;
}

function ascset(dev: CgminerDevice, param: string): Reply {
  const parts = param.split(',');
  if (param.trim() === '') return reply(dev, 'E', 15, 'Missing device id parameter');
  if (parts[0] !== '0') return reply(dev, 'E', 107, `Invalid ASC id ${parts[0]} - range is 0 - 0`);
  const option = (parts[1] ?? '').toLowerCase();
  const args = parts.slice(2);
  const ok = () => reply(dev, 'S', 119, 'ASC 0 set OK');
  const info = (m: string) => reply(dev, 'I', 118, `ASC 0 set info: ${m}`);
  const failed = (m: string) => reply(dev, 'E', 120, `ASC 0 set failed: ${m}`);
  switch (option) {
    case 'help':
      return info(dev.model.help);
    case 'reboot': {
      // The 3S takes a delay 0–300 s; the Nano 3 (as its tools send it) "all".
      const arg = args[0] ?? '';
      const valid = dev.model.rebootArg === 'all' ? arg === 'all' : /^\d+$/.test(arg) && Number(arg) <= 300;
      if (!valid) return failed(`reboot unknown argument`);
      dev.reboot();
      return info('reboot');
    }
    case 'softoff':
      if (dev.model.id === 'nano3' || dev.noSoftoff) break;
      return info(`success softoff:${dev.setSoft(true)}`);
    case 'softon': {
      if (dev.model.id === 'nano3') break;
      const at = dev.setSoft(false);
      if (dev.softonSilent) return { ...info(''), silent: true };
      return info(`success softon:${at}`);
    }
    case 'workmode':
    case 'worklevel': {
      if (option !== dev.model.levelKey) {
        if (option === 'workmode') return reply(dev, 'E', 120, 'error:1 not support set workmode max_mode[0]');
        return failed('worklevel unknown argument');
      }
      if (args[0] === 'get') return info(`${option} ${dev.level}`);
      const n = Number(args[0] === 'set' ? args[1] : args[0]);
      if (!Number.isInteger(n) || n < 0 || n >= dev.model.levels.length) return failed(`${option} unknown argument`);
      dev.setLevel(n);
      return ok();
    }
    case 'fan-spd': {
      const v = Number(args[0]);
      if (v === -1) dev.fanSetting = -1;
      else if (Number.isInteger(v) && v >= 15 && v <= 100) dev.fanSetting = v;
      else return failed('fan-spd unknown argument');
      return ok();
    }
    case 'target-temp': {
      const v = Number(args[0]);
      if (!Number.isInteger(v) || v < 50 || v > 90) return failed('target-temp unknown argument');
      dev.targetTemp = v;
      return ok();
    }
  }
  return failed(`${option || 'missing option'} unknown option`);
}

function setpool(dev: CgminerDevice, param: string): Reply {
  const p = param.split(',');
  if (p.length !== 6)
    return reply(dev, 'E', 14, 'Missing parameters: setpool|user,password,pool id,url,worker,worker password');
  const [user, pass, idText, url, worker, workerPass] = p as [string, string, string, string, string, string];
  if (user !== dev.webUser || pass !== dev.webPass)
    return reply(dev, 'E', 132, 'Pool set error: web user or password wrong');
  const id = Number(idText);
  if (!Number.isInteger(id) || id < 0 || id > 2)
    return reply(dev, 'E', 132, `Pool set error: invalid pool id ${idText}, range is 0 - 2`);
  dev.savedPools[id] = { url, user: worker, pass: workerPass, enabled: true };
  return reply(dev, 'S', 133, `Pool set info: pool ${id} set to ${url}, worker ${worker}; reboot to use it`);
}

/** Runs one command (no '+' joins) against the device. */
export function runCommand(dev: CgminerDevice, command: string, param: string): Reply {
  dev.settle();
  switch (command.toLowerCase()) {
    case 'version':
      return reply(dev, 'S', 22, 'CGMiner versions', [
        [
          'VERSION',
          [
            {
              CGMiner: '4.11.1',
              API: '3.7',
              PROD: dev.model.prod,
              MODEL: dev.model.model,
              HWTYPE: dev.model.hwtype,
              SWTYPE: 'MM319',
              ...(dev.model.versionKey === 'VERSION'
                ? { VERSION: dev.firmware }
                : { LVERSION: dev.firmware, BVERSION: dev.firmware, CGVERSION: dev.firmware }),
              DNA: '020100003cbe4d15',
              MAC: 'e0e1a93f3053',
              UPAPI: '2',
              FANMCUVERSION: 'N_fb_v1.1',
              HBMCUVERSION: 'N_hb_v1.1',
            },
          ],
        ],
      ]);
    case 'config':
      return reply(dev, 'S', 33, 'CGMiner config', [
        [
          'CONFIG',
          [
            {
              'ASC Count': 1,
              'PGA Count': 0,
              'Pool Count': dev.pools.length,
              Strategy: 'Failover',
              'Log Interval': 5,
              'Device Code': 'AVALON',
              OS: 'Linux',
              Hotplug: 'None',
            },
          ],
        ],
      ]);
    case 'summary':
      return reply(dev, 'S', 11, 'Summary', [['SUMMARY', [summaryItem(dev)]]]);
    case 'devs':
    case 'edevs':
      return reply(dev, 'S', 9, '1 ASC(s)', [['DEVS', [devItem(dev)]]]);
    case 'devdetails':
      return reply(dev, 'S', 69, 'Device Details', [
        [
          'DEVDETAILS',
          [{ DEVDETAILS: 0, Name: 'AVALON', ID: 0, Driver: 'avalon', Kernel: '', Model: '', 'Device Path': '' }],
        ],
      ]);
    case 'pools':
      return reply(dev, 'S', 7, `${dev.pools.length} Pool(s)`, [['POOLS', dev.pools.map((_, i) => poolItem(dev, i))]]);
    case 'stats':
      return reply(dev, 'S', 70, 'CGMiner stats', [['STATS', [statsItem(dev), ...poolStatsItems(dev)]]]);
    case 'estats':
      return reply(dev, 'S', 70, 'CGMiner stats', [['STATS', [statsItem(dev)]]]);
    case 'litestats':
      return reply(dev, 'S', 70, 'CGMiner stats', [['STATS', [{ [dev.summaryKey]: statusString(dev, dev.t()) }]]]);
    case 'lcd': {
      const active = dev.activePool();
      return reply(dev, 'S', 125, 'LCD', [
        [
          'LCD',
          [
            {
              Elapsed: dev.elapsed(),
              'GHS av': Number(dev.ghsAverage().toFixed(2)),
              'GHS 5m': Number(dev.ghsAverage().toFixed(2)),
              'GHS 5s': Number(dev.ghsSpeed().toFixed(2)),
              Temperature: 0.0,
              'Last Share Difficulty': dev.shareDifficulty(),
              'Last Share Time': Math.floor(dev.t() / 1000) - 7,
              'Best Share': dev.accepted() * dev.shareDifficulty() * 3,
              'Last Valid Work': Math.floor(dev.t() / 1000) - 7,
              'Found Blocks': 0,
              'Current Pool': active === undefined ? '' : dev.pools[active]!.url,
              User: active === undefined ? '' : dev.pools[active]!.user,
            },
          ],
        ],
      ]);
    }
    case 'coin':
      return reply(dev, 'S', 78, 'CGMiner coin', [
        [
          'COIN',
          [
            {
              'Hash Method': 'sha256',
              'Current Block Time': (Math.floor(dev.t() / 1000) % 600) + 0.5,
              'Current Block Hash': '0'.repeat(20) + 'd0ccaffecb937ee444cb056356abc59b906666607cf1',
              LP: true,
              'Network Difficulty': 126271255279306.98,
            },
          ],
        ],
      ]);
    case 'check': {
      const known = [
        'version',
        'config',
        'summary',
        'devs',
        'edevs',
        'pools',
        'stats',
        'estats',
        'litestats',
        'lcd',
        'switchpool',
        'enablepool',
        'disablepool',
        'poolpriority',
        'setpool',
        'ascset',
        'coin',
        'devdetails',
        'check',
      ];
      const exists = known.includes(param.trim().toLowerCase()) ? 'Y' : 'N';
      return reply(dev, 'S', 72, 'Check command', [['CHECK', [{ Exists: exists, Access: exists }]]]);
    }
    case 'switchpool': {
      const id = poolId(dev, param);
      if (typeof id !== 'number') return id;
      dev.switchPool(id);
      return reply(dev, 'S', 27, `Switching to pool ${id}:'${dev.pools[id]!.url}'`);
    }
    case 'enablepool': {
      const id = poolId(dev, param);
      if (typeof id !== 'number') return id;
      const p = dev.pools[id]!;
      if (p.enabled) return reply(dev, 'I', 49, `Pool ${id}:'${p.url}' already enabled`);
      dev.settle();
      p.enabled = true;
      return reply(dev, 'S', 47, `Enabling pool ${id}:'${p.url}'`);
    }
    case 'disablepool': {
      const id = poolId(dev, param);
      if (typeof id !== 'number') return id;
      const p = dev.pools[id]!;
      if (!p.enabled) return reply(dev, 'I', 50, `Pool ${id}:'${p.url}' already disabled`);
      if (dev.pools.filter((q) => q.enabled && q.url).length <= 1 && p.url)
        return reply(dev, 'E', 51, `Cannot disable last active pool ${id}:'${p.url}'`);
      dev.settle();
      p.enabled = false;
      return reply(dev, 'S', 48, `Disabling pool ${id}:'${p.url}'`);
    }
    case 'poolpriority': {
      if (param.trim() === '') return reply(dev, 'E', 25, 'Missing pool id parameter');
      const ids = param.split(',').map((s) => Number(s.trim()));
      const bad = ids.find((i) => !Number.isInteger(i) || i < 0 || i >= dev.pools.length);
      if (bad !== undefined)
        return reply(dev, 'E', 26, `Invalid pool id ${bad} - range is 0 - ${dev.pools.length - 1}`);
      if (new Set(ids).size !== ids.length)
        return reply(dev, 'E', 74, `Duplicate pool specified ${ids.find((v, i) => ids.indexOf(v) !== i)}`);
      dev.settle();
      dev.priority = [...ids, ...dev.priority.filter((i) => !ids.includes(i))];
      dev.current = dev.priority.find((i) => dev.pools[i]!.enabled && dev.pools[i]!.url) ?? dev.current;
      return reply(dev, 'S', 73, 'Changed pool priorities');
    }
    case 'setpool':
      return setpool(dev, param);
    case 'ascset':
      return ascset(dev, param);
  }
  return reply(dev, 'E', 14, 'Invalid command');
}

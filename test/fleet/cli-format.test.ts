// How `mvm fleet` prints numbers: each miner's hashrate in its own unit, unknowns as "-".
import t from 'tap';
import { formatHashrate, minersTable } from '../../cli/fleet-format.js';

t.test('hashrates scaled per device', async (t) => {
  t.equal(formatHashrate(0.000512), '512 kH/s', 'an NMMiner at 512 kH/s');
  t.equal(formatHashrate(0.00102), '1.02 MH/s');
  t.equal(formatHashrate(480), '480 GH/s');
  t.equal(formatHashrate(1210), '1.21 TH/s', 'a Bitaxe Gamma');
  t.equal(formatHashrate(6120), '6.12 TH/s', 'an Avalon Nano 3S');
  t.equal(formatHashrate(0), '0 H/s');
  t.equal(formatHashrate(null), '-');
  t.equal(formatHashrate(Number.NaN), '-');
});

t.test('the miners table: one unit per row, offline miners without numbers', async (t) => {
  const last = (hashrateGhs: number | null, powerW: number | null) => ({
    hashrateGhs,
    powerW,
    efficiencyJth: powerW && hashrateGhs ? powerW / (hashrateGhs / 1000) : null,
    temperatures: { chip: 55 },
  });
  const out = minersTable([
    {
      id: 'lotto',
      driver: 'nmminer',
      status: 'online',
      source: 'config',
      testbed: null,
      model: null,
      tags: [],
      last: last(0.00102, null),
      desired: null,
    },
    {
      id: 'gamma',
      driver: 'axeos',
      status: 'online',
      source: 'testbed',
      testbed: 'bitaxe-gamma',
      model: null,
      tags: [],
      last: last(1210, 18.2),
      desired: { mode: 'eco' },
    },
    {
      id: 'nano',
      driver: 'cgminer',
      status: 'offline',
      source: 'api',
      testbed: null,
      model: null,
      tags: [],
      last: last(6120, 140),
      desired: null,
    },
  ]).split('\n');
  t.match(out[0], /^MINER\s+DRIVER\s+STATUS\s+HASHRATE\s+POWER\s+J\/TH\s+TEMP\s+MODE\s+SOURCE$/);
  t.match(out[1], /^lotto\s+nmminer\s+online\s+1\.02 MH\/s\s+-\s+-\s+55 °C\s+-\s+config$/);
  t.match(out[2], /^gamma\s+axeos\s+online\s+1\.21 TH\/s\s+18\.2 W\s+15\.0\s+55 °C\s+eco\s+testbed bitaxe-gamma$/);
  t.match(out[3], /^nano\s+cgminer\s+offline\s+-\s+-\s+-\s+55 °C\s+-\s+api$/);
});

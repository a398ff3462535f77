// Testbed devices of several labs as fleet miners: names carry the lab only where a name repeats,
// a config miner's name is never taken, and a lab not heard from yet keeps its stored miners.
import t from 'tap';
import { parseFleetConfig } from '../../fleet/config/load.js';
import { fleetMiners, type LabDevice } from '../../fleet/lab-miners.js';
import type { MinerDefinition } from '../../fleet/types.js';

const factoryWithLabs = `
[general]
baseurl = "http://127.0.0.1:9300"
[factory]
token = "f"
[target.bitaxe]
[testbed.gamma]
targets = ["bitaxe"]
[testbed.gamma.devices.miner]
driver = "axeos"
hardware = "601"
address = "http://10.0.0.1"
[lab]
url = "http://here:9310"
token = "t"
[lab.b]
url = "http://b:9310"
token = "t"
[lab.c]
url = "http://c:9310"
token = "t"
[miner."solo.miner"]
driver = "axeos"
address = "http://10.0.0.9"
`;

const dev = (testbed: string, address: string, driver = 'axeos'): LabDevice => ({
  testbed,
  name: 'miner',
  driver,
  address,
  hardware: '601',
});

t.test('names across labs', async (t) => {
  const { config, problems } = parseFleetConfig(factoryWithLabs, '/f.toml', { env: { MVM_FACTORY_TOKEN: 'x' } });
  t.same(problems, []);
  const stored: MinerDefinition[] = [
    {
      id: 'old.miner',
      driver: 'axeos',
      address: 'http://10.0.3.1',
      options: {},
      tags: ['old@c'],
      source: 'testbed',
      testbed: 'old@c',
    },
  ];
  const discovered = new Map<string, LabDevice[]>([
    [
      'b',
      [
        dev('gamma', 'http://10.0.2.1'),
        dev('solo', 'http://10.0.2.2'),
        dev('flash', 'http://10.0.2.3', 'command'),
        { ...dev('nowhere', ''), address: null },
      ],
    ],
  ]);
  const miners = fleetMiners(config!, discovered, stored);
  t.same(
    miners.map((m) => `${m.id} ${m.source} ${m.testbed ?? '-'}`),
    [
      'gamma.miner@b testbed gamma@b',
      'gamma.miner@default testbed gamma',
      'old.miner testbed old@c',
      'solo.miner config -',
      'solo.miner@b testbed solo@b',
    ],
    'the file’s testbeds are the lab "default"; a repeated name carries its lab; a config miner keeps its name; lab c (not heard from) keeps its stored miner; devices without telemetry are left out',
  );
  t.same(miners.find((m) => m.id === 'gamma.miner@b')!.tags, ['gamma@b']);
});

// `mvm fleet energy` and `mvm fleet rules` (the yargs modules `mvm fleet` adds) against the route
// plugins served over real HTTP, prices from `mvm sim octopus`.
import Fastify from 'fastify';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import yargs from 'yargs';
import { fleetEnergyCommands } from '../../cli/fleet-energy.js';
import { timeArg } from '../../cli/fleet-energy-actions.js';
import { createEnergy } from '../../fleet/energy/wire.js';
import { OctopusClient } from '../../fleet/energy/octopus.js';
import { londonMidnight } from '../../shared/london-time.js';
import { silentLogger } from '../../shared/log.js';
import { startMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { FakeActuator, FixedHistory, MemoryEvents, minerView } from './support.js';

t.teardown(async () => {
  await stopAllMvm();
});

t.test('energy and rules commands', async (t) => {
  const p = startMvm(['sim', 'octopus', '--listen', '127.0.0.1:0', '--region', 'C', '--now', '2026-12-04T10:00:00Z']);
  const octopus = (await p.waitForLine(/listening on /)).split(' on ')[1]!.trim();
  const day = londonMidnight(2026, 12, 4);
  const miners = [minerView('a')];
  const energy = createEnergy({
    dataDir: join(tempDir(t), 'data'),
    config: { source: 'octopus', flatPrice: 30, fetchIntervalMs: 3_600_000, backfillMs: 0 },
    source: new OctopusClient({ product: 'AGILE-24-10-01', region: 'C', baseUrl: octopus }),
    miners: { list: () => miners, get: (id) => miners.find((m) => m.id === id) },
    history: new FixedHistory(new Map()),
    events: new MemoryEvents(),
    actuator: new FakeActuator(),
    log: silentLogger(),
    now: () => day + 10 * 3_600_000,
  });
  const app = Fastify();
  await energy.routes(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await app.close();
    energy.close();
  });
  const dir = tempDir(t);
  const run = async (...args: string[]) => {
    let text = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => ((text += s), true)) as typeof process.stdout.write;
    let error: Error | undefined;
    try {
      await yargs()
        .command(fleetEnergyCommands)
        .strict()
        .fail((msg, err) => {
          throw err ?? new Error(msg);
        })
        .parseAsync([...args, '--url', url, '--token', 'x']);
    } catch (err) {
      error = err as Error;
    } finally {
      process.stdout.write = write;
    }
    return { text, error };
  };

  t.match(
    (await run('energy', 'refresh')).text,
    /^46 slots fetched \(46 new\); prices known until 2026-12-04T23:00:00.000Z/,
  );
  t.match(
    (await run('energy', 'current')).text,
    /p\/kWh {2}2026-12-04 10:00–10:30 UTC\nsource octopus:AGILE-24-10-01:C\n/,
  );
  // "today" is resolved on the client's clock: the table is checked with the simulated day's start,
  // and the word itself against a fixed clock (the real one moves on; the simulated prices don't)
  t.equal(timeArg('today', day + 10 * 3_600_000), new Date(day).toISOString());
  t.match(
    (await run('energy', 'timeline', '--from', new Date(day).toISOString())).text,
    /SLOT \(UTC\)\s+P\/KWH\n2026-12-04 00:00/,
  );
  const json = JSON.parse(
    (await run('energy', 'timeline', '--from', '2026-12-04T16:00:00Z', '--to', '2026-12-04T17:00:00Z', '--json')).text,
  );
  t.equal(json.slots.length, 2);
  t.match((await run('energy', 'cost')).text, /a\s+0\.000\s+0\.00 p/);

  const file = join(dir, 'rule.yaml');
  writeFileSync(
    file,
    'name: eco when dear\ntrigger: { type: price_above, threshold: 25 }\naction: { type: set_mode, mode: eco }\nuntil: true\n',
  );
  t.match(
    (await run('rules', 'add', '-f', file)).text,
    /added\n#1 eco when dear {2}priority 0\n {2}when {4}price_above threshold=25/,
  );
  writeFileSync(
    join(dir, 'bad.json'),
    JSON.stringify({
      name: 'bad',
      trigger: { type: 'price_above', threshold: 25 },
      action: { type: 'set_mode', mode: 'eco' },
      conditions: { miners: ['b'] },
    }),
  );
  const bad = await run('rules', 'add', '-f', join(dir, 'bad.json'));
  t.match(bad.error?.message, /cannot add the rule: the rule is refused: conditions.miners: unknown miner "b"/);
  t.match(
    (await run('rules', 'list')).text,
    /1\s+eco when dear\s+0\s+price_above threshold=25\s+set_mode mode=eco \(until\)\s+-/,
  );
  const dry = (await run('rules', 'dry-run', '1')).text;
  t.match(dry, /rule "eco when dear" at 2026-12-04T10:00:00.000Z:\n {2}now {2}a: nothing/);
  t.match(dry, /2026-12-04 \d\d:\d\d {2}fire set mode eco — /);
  t.match(dry, /undo undo — /);
  t.match((await run('rules', 'disable', '1')).text, /#1 eco when dear \(disabled\)/);
  t.match(
    (await run('rules', 'types')).text,
    /TRIGGERS[\s\S]*cheapest_slots\s+count[\s\S]*ACTIONS[\s\S]*notify\s+url \[headers\]/,
  );
  t.match((await run('rules', 'rm', '1')).text, /rule 1 deleted/);
  t.match((await run('rules', 'list')).text, /no rules/);
});

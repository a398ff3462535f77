// End to end: prices from `mvm sim octopus` (a real process), rules evaluated with an injected
// clock, and the driver-backed actuator changing a simulated Bitaxe over HTTP — its mode through
// the evening peak and back, paused in a negative slot — and a testbed's device changed only
// under a reservation (the factory client faked: busy, then free).
import t from 'tap';
import { DriverActuator, reservationGate } from '../../fleet/automation/driver-actuator.js';
import { createEnergy } from '../../fleet/energy/wire.js';
import { SLOT_MS, londonMidnight } from '../../shared/london-time.js';
import { silentLogger } from '../../shared/log.js';
import { startAxeosSim } from '../../sim/index.js';
import { agilePrice, hasPlunge, plungeSlot } from '../../sim/octopus/prices.js';
import { startMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { FixedHistory, MemoryEvents, minerView, octopusEnergyConfig } from './support.js';

t.teardown(async () => {
  await stopAllMvm();
});

t.test('rules drive a simulated Bitaxe through the day', async (t) => {
  // A day with a negative slot, so both rules act.
  let day = londonMidnight(2026, 12, 4);
  while (!hasPlunge(day, 'C'))
    day = londonMidnight(
      ...(new Date(day + 36 * 3_600_000).toISOString().slice(0, 10).split('-').map(Number) as [number, number, number]),
    );
  const p = startMvm([
    'sim',
    'octopus',
    '--listen',
    '127.0.0.1:0',
    '--region',
    'C',
    '--now',
    new Date(day + 12 * 3_600_000).toISOString(),
  ]);
  const octopus = (await p.waitForLine(/listening on /)).split(' on ')[1]!.trim();
  const gamma = await startAxeosSim({ board: '601' });
  const lab = await startAxeosSim({ board: '601' });
  t.teardown(async () => {
    await gamma.close();
    await lab.close();
  });
  const miners = [
    minerView('gamma', { address: gamma.url }),
    minerView('lab-gamma', { address: lab.url, testbed: 'tb-1' }),
  ];
  const store = { list: () => miners, get: (id: string) => miners.find((m) => m.id === id) };
  let busy = true;
  let held = false;
  const reservations: string[] = [];
  const gate = reservationGate(
    {
      async reserve(tb, reason) {
        if (busy) throw new Error(`testbed ${tb} is running a job (01JOB) until the job ends`);
        if (held) throw new Error(`you already hold testbed ${tb}`);
        held = true;
        reservations.push(`reserve ${tb}: ${reason.split(':')[0]}`);
      },
      async release(tb) {
        held = false;
        reservations.push(`release ${tb}`);
      },
      async renew(tb) {
        if (!held) throw new Error(`you do not hold testbed ${tb}`);
        reservations.push(`renew ${tb}`);
      },
    },
    { renewEveryMs: 60 * 60_000, now: () => clock.now },
  );
  const clock = { now: day + 12 * 3_600_000 };
  const events = new MemoryEvents();
  const energy = createEnergy({
    dataDir: ':memory:',
    config: octopusEnergyConfig(octopus),
    miners: store,
    history: new FixedHistory(new Map()),
    events,
    log: silentLogger(),
    now: () => clock.now,
    actuator: new DriverActuator({ miner: (id) => store.get(id), testbeds: gate }),
  });
  t.teardown(() => energy.close());
  const fetched = await energy.fetcher.fetchOnce();
  t.equal(fetched.slots, 46);
  const add = (body: unknown) => energy.rules.add(validate(body), 'test');
  const { validateRule } = await import('../../fleet/automation/validate.js');
  const validate = (body: unknown) => validateRule(body, { miners, actuator: energy.actuator });
  add({
    name: 'eco when dear',
    trigger: { type: 'price_above', threshold: 25 },
    action: { type: 'set_mode', mode: 'eco' },
    until: true,
  });
  add({
    name: 'pause when paid',
    trigger: { type: 'price_negative' },
    action: { type: 'pause' },
    until: true,
    conditions: { miners: ['gamma'] },
  });

  const standardFreq = gamma.device.settings.frequency;
  const seen: string[] = [];
  for (let i = 0; i < 46; i++) {
    clock.now = day + i * SLOT_MS + 60_000;
    if (i === 34) busy = false; // the job on tb-1 ends at 17:00
    await energy.engine.evaluate();
    seen.push(`${gamma.device.settings.frequency}${gamma.device.paused ? ' paused' : ''}`);
  }
  const neg = (plungeSlot(day) - day) / SLOT_MS;
  t.ok(
    seen[neg]!.endsWith('paused') && !seen[neg + 1]!.endsWith('paused'),
    `paused in the negative slot (${neg}) only`,
  );
  const dear = Array.from({ length: 46 }, (_, i) => agilePrice(day + i * SLOT_MS, 'C').valueIncVat > 25);
  const firstDear = dear.indexOf(true);
  t.ok(firstDear > 0, 'a dear slot');
  t.ok(
    Number(seen[firstDear]!.split(' ')[0]) < standardFreq,
    `eco (lower frequency) from the first dear slot (${firstDear})`,
  );
  t.equal(Number(seen.at(-1)!.split(' ')[0]), standardFreq, 'standard again when prices fall');
  // The testbed's device: refused while the job runs (one event), done under a reservation after, released at the end.
  const refusals = events.rules().filter((e) => e.minerId === 'lab-gamma' && e.data?.outcome === 'refused');
  t.equal(refusals.length, 1);
  t.match(refusals[0]!.message, /running a job/);
  const dearAfterFree = dear.findIndex((d, i) => d && i >= 34);
  t.ok(dearAfterFree >= 34);
  t.same(
    reservations.filter((r) => !r.startsWith('renew')),
    ['reserve tb-1: rule "eco when dear"', 'release tb-1'],
    'one reservation for the window',
  );
  t.ok(reservations.includes('renew tb-1'), 'renewed while the window lasts');
  t.match(
    events.rules().find((e) => e.minerId === 'lab-gamma' && e.data?.outcome === 'fired')!.data!.answer as string,
    /^eco on BM1370/,
  );
  t.equal(
    lab.device.settings.frequency < standardFreq,
    true,
    'the testbed device stays in eco: its baseline is restored by the factory, not by the rule',
  );
});

// The rule engine with an injected clock and a recording actuator: thresholds against prices from
// `mvm sim octopus`, cheapest slots, negative prices, hysteresis and cooldown, priority, a
// temperature rule, refusals (a miner saying no, a busy testbed) and checks when a rule is saved.
import t from 'tap';
import { OctopusClient } from '../../fleet/energy/octopus.js';
import { RuleInvalidError } from '../../fleet/automation/validate.js';
import { SLOT_MS, londonMidnight } from '../../shared/london-time.js';
import { agilePrice } from '../../sim/octopus/prices.js';
import { startMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { harness } from './engine-harness.js';
import { minerView } from './support.js';

t.teardown(async () => {
  await stopAllMvm();
});

const DAY = londonMidnight(2026, 12, 4);
const slot = (i: number) => DAY + i * SLOT_MS;

t.test('a price threshold against `mvm sim octopus`: eco in the dear slots, back after', async (t) => {
  const p = startMvm(['sim', 'octopus', '--listen', '127.0.0.1:0', '--region', 'C', '--now', '2026-12-04T10:00:00Z']);
  const url = (await p.waitForLine(/listening on /)).split(' on ')[1]!.trim();
  const h = harness(t, [minerView('a'), minerView('b')]);
  h.prices.upsert(
    await new OctopusClient({ product: 'AGILE-24-10-01', region: 'C', baseUrl: url }).fetch({
      from: DAY,
      to: DAY + 86_400_000,
    }),
    h.clock.now,
  );
  h.addRule({
    name: 'eco when dear',
    trigger: { type: 'price_above', threshold: 25 },
    action: { type: 'set_mode', mode: 'eco' },
    until: true,
  });
  // What should happen, slot by slot, from the simulator's own curve.
  const expected: string[] = [];
  let on = false;
  for (let i = 0; i < 46; i++) {
    const dear = agilePrice(slot(i), 'C').valueIncVat > 25;
    if (dear !== on) for (const m of ['a', 'b']) expected.push(`${i} mode=${dear ? 'eco' : 'standard'} ${m}`);
    on = dear;
  }
  t.ok(expected.length >= 4, 'the evening peak crosses 25 p');
  const got: string[] = [];
  for (let i = 0; i < 46; i++) {
    h.fake.calls = [];
    await h.at(slot(i) + 60_000);
    for (const c of h.fake.calls.sort()) got.push(`${i} ${c.split(' ').slice(0, 2).join(' ')}`);
  }
  t.same(got, expected, 'fired at the first dear slot, undone at the first cheap one');
  const fired = h.events.rules().find((e) => e.data?.outcome === 'fired')!;
  t.equal(fired.minerId, 'a');
  t.equal(fired.actor, 'rule:eco when dear');
  t.ok((fired.data!.value as number) > 25, 'the event carries the trigger value');
  t.match(fired.message, /set mode eco[\s\S]*> 25 p\/kWh/);
  t.ok(
    h.events.rules().some((e) => e.data?.outcome === 'undone' && /set mode standard/.test(e.message)),
    'an event for the undo',
  );
});

t.test('cheapest N slots of the day, and a negative price', async (t) => {
  const h = harness(t, [minerView('a')]);
  const prices = Array.from({ length: 48 }, () => 20);
  prices[5] = 5;
  prices[6] = 4;
  prices[30] = 3;
  prices[40] = -2.5;
  h.setPrices(DAY, prices);
  h.addRule({
    name: 'cheap',
    trigger: { type: 'cheapest_slots', count: 4 },
    action: { type: 'resume' },
    until: true,
    undoAction: { type: 'pause' },
  });
  h.addRule({
    name: 'paid to mine',
    trigger: { type: 'price_negative' },
    action: { type: 'set_mode', mode: 'turbo' },
    until: true,
  });
  const log: string[] = [];
  for (let i = 0; i < 48; i++) {
    h.fake.calls = [];
    await h.at(slot(i));
    for (const c of h.fake.calls) log.push(`${i} ${c.split(' ')[0]}`);
  }
  t.same(log, [
    '5 resume',
    '7 pause',
    '30 resume',
    '31 pause',
    '40 resume',
    '40 mode=turbo',
    '41 pause',
    '41 mode=standard',
  ]);
  const neg = h.events.rules().find((e) => e.actor === 'rule:paid to mine' && e.data?.outcome === 'fired')!;
  t.equal(neg.data!.value, -2.5);
  t.match(neg.message, /-2.5 p\/kWh < 0 p\/kWh/);
  const cheap = h.events.rules().find((e) => e.actor === 'rule:cheap')!;
  t.match(cheap.message, /is the 4th cheapest of 48 known slots today \(wanted: 4\)/);
});

t.test('hysteresis keeps a price hovering at the threshold from flapping; cooldown spaces firings', async (t) => {
  const h = harness(t, [minerView('a'), minerView('b')]);
  h.setPrices(DAY, [24, 26, 24.5, 25.5, 24, 26, 22, 26, 27, 20]);
  h.addRule({
    name: 'hyst',
    trigger: { type: 'price_above', threshold: 25 },
    hysteresis: 2,
    action: { type: 'set_mode', mode: 'eco' },
    until: true,
    conditions: { miners: ['a'] },
  });
  h.addRule({
    name: 'flappy',
    trigger: { type: 'price_above', threshold: 25 },
    action: { type: 'set_mode', mode: 'eco' },
    until: true,
    cooldownMs: 60 * 60_000,
    conditions: { miners: ['b'] },
  });
  const log: string[] = [];
  for (let i = 0; i < 10; i++) {
    h.fake.calls = [];
    await h.at(slot(i));
    for (const c of h.fake.calls) log.push(`${i} ${c.split(' ').slice(0, 2).join(' ')}`);
  }
  const a = log.filter((l) => l.endsWith(' a'));
  t.same(
    a,
    ['1 mode=eco a', '6 mode=standard a', '7 mode=eco a', '9 mode=standard a'],
    'with 2 p of hysteresis: one change per real move',
  );
  const b = log.filter((l) => l.endsWith(' b'));
  // b: eco at 1, undone at 2 (24.5 <= 25), wants again at 3 but cools down until 3 (1 h after slot 2 → slot 4)…
  t.same(b, [
    '1 mode=eco b',
    '2 mode=standard b',
    '5 mode=eco b',
    '6 mode=standard b',
    '8 mode=eco b',
    '9 mode=standard b',
  ]);
  const skips = h.events.rules().filter((e) => e.data?.outcome === 'skipped' && e.minerId === 'b');
  t.ok(skips.length >= 1 && /cooling down until/.test(skips[0]!.message), 'the cooldown skip is an event');
});

t.test('two rules want one miner: the higher priority wins, with an event naming it', async (t) => {
  const h = harness(t, [minerView('a')]);
  h.setPrices(DAY, [27, 27, 20]);
  h.addRule({
    name: 'eco when dear',
    priority: 10,
    trigger: { type: 'price_above', threshold: 25 },
    action: { type: 'set_mode', mode: 'eco' },
    until: true,
  });
  h.addRule({
    name: 'turbo when cheapish',
    trigger: { type: 'price_below', threshold: 30 },
    action: { type: 'set_mode', mode: 'turbo' },
    until: true,
  });
  await h.at(slot(0));
  t.same(h.fake.calls, ['mode=eco a rule:eco when dear']);
  const skip = h.events.rules().find((e) => e.data?.outcome === 'skipped')!;
  t.match(
    skip.message,
    /rule "eco when dear" \(priority 10\) wins this miner over "turbo when cheapish" \(priority 0\)/,
  );
  await h.at(slot(1));
  t.equal(h.events.rules().filter((e) => e.data?.outcome === 'skipped').length, 1, 'the same skip is reported once');
  h.fake.calls = [];
  await h.at(slot(2));
  t.same(
    h.fake.calls,
    ['mode=turbo a rule:turbo when cheapish'],
    'the lower rule takes over without an undo in between',
  );
  t.ok(h.events.rules().some((e) => e.data?.outcome === 'superseded'));
});

t.test('a temperature rule, with hysteresis, and a miner that refuses', async (t) => {
  const h = harness(t, [minerView('a'), minerView('b')]);
  h.addRule({
    name: 'cool down',
    trigger: { type: 'temperature_above', limit: 70 },
    hysteresis: 5,
    action: { type: 'set_fan', percent: 100 },
    until: true,
    undoAction: { type: 'set_fan', percent: 50 },
  });
  h.fake.refuse = (op, m) =>
    m === 'b' && op.startsWith('fan') ? 'fan control not supported by this firmware' : undefined;
  const temp = (m: string, c: number) =>
    h.history.latestRows.set(m, {
      minerId: m,
      at: h.clock.now,
      online: true,
      hashrateGhs: 1000,
      powerW: 15,
      efficiencyJth: 15,
      temperatures: { chip: c, vr: c - 10 },
      fanRpm: null,
      fanPercent: null,
      sharesAccepted: null,
      sharesRejected: null,
    });
  const steps: Array<[number, number]> = [
    [65, 75],
    [72, 76],
    [68, 77],
    [64, 60],
  ];
  const log: string[] = [];
  for (const [i, [ta, tb]] of steps.entries()) {
    temp('a', ta);
    temp('b', tb);
    h.fake.calls = [];
    await h.at(DAY + i * 60_000);
    log.push(
      ...h.fake.calls.map(
        (c) => `${i} ${c.split(' ').slice(0, 2).join(' ')}${c.endsWith('REFUSED') ? ' refused' : ''}`,
      ),
    );
  }
  t.same(
    log.filter((l) => l.endsWith(' a')),
    ['1 fan=100 a', '3 fan=50 a'],
    'fan up above 70 °C, back below 65 °C',
  );
  const refusals = h.events.rules().filter((e) => e.data?.outcome === 'refused');
  t.equal(refusals.length, 1, 'a refusal is one event, not one per tick');
  t.equal(refusals[0]!.minerId, 'b');
  t.match(refusals[0]!.message, /fan control not supported/);
  t.equal(refusals[0]!.level, 'warn');
  t.match(h.events.rules().find((e) => e.data?.outcome === 'fired')!.message, /chip 72 °C > chip 70 °C/);
});

t.test("a testbed's device: refused while the testbed is busy, done under a reservation when free", async (t) => {
  const h = harness(t, [minerView('lab-601', { testbed: 'tb-1' })]);
  h.setPrices(DAY, [30, 30, 30, 10, 30, 30, 10]);
  t.throws(
    () => h.addRule({ name: 'no window', trigger: { type: 'price_above', threshold: 25 }, action: { type: 'pause' } }),
    /device of testbed tb-1: a rule changes it only for its window/,
  );
  h.addRule({
    name: 'park when dear',
    trigger: { type: 'price_above', threshold: 25 },
    action: { type: 'pause' },
    until: true,
  });
  let busy = true;
  h.fake.refuse = (op) =>
    op === 'hold' && busy ? 'testbed tb-1 is running a job (job 01JOB) until the job ends' : undefined;
  await h.at(slot(0));
  await h.at(slot(0) + 60_000);
  t.same(
    h.fake.calls,
    ['hold lab-601 rule:park when dear REFUSED', 'hold lab-601 rule:park when dear REFUSED'],
    'no action without the reservation',
  );
  const refused = h.events.rules().filter((e) => e.data?.outcome === 'refused');
  t.equal(refused.length, 1);
  t.match(refused[0]!.message, /take testbed tb-1: testbed tb-1 is running a job/);
  busy = false;
  h.fake.calls = [];
  await h.at(slot(1));
  t.same(h.fake.calls, ['hold lab-601 rule:park when dear', 'pause lab-601 rule:park when dear']);
  t.match(h.events.rules().find((e) => e.data?.outcome === 'fired')!.message, /under a reservation of testbed tb-1/);
  h.fake.calls = [];
  await h.at(slot(3));
  t.same(
    h.fake.calls,
    ['release lab-601 rule:park when dear'],
    'the window ends: the reservation is released (the factory restores the baseline), no undo action',
  );
  t.match(
    h.events.rules().find((e) => e.data?.outcome === 'undone')!.message,
    /testbed tb-1 released \(its baseline restored\)/,
  );

  // Held again, then the reservation is lost (it lapsed, or an admin took it): reported, and taken again.
  await h.at(slot(4));
  h.fake.lose = 'the reservation of tb-1 expired';
  h.fake.calls = [];
  await h.at(slot(4) + 60_000);
  t.same(h.fake.calls, ['keep lab-601 rule:park when dear']);
  t.match(
    h.events.rules().find((e) => e.data?.outcome === 'lost')!.message,
    /lost its hold on lab-601: the reservation of tb-1 expired; testbed tb-1 is back to its baseline/,
  );
  h.fake.lose = undefined;
  h.fake.calls = [];
  await h.at(slot(5));
  t.same(
    h.fake.calls,
    ['hold lab-601 rule:park when dear', 'pause lab-601 rule:park when dear'],
    'taken again at the next evaluation',
  );
});

t.test('rules that cannot be satisfied are refused when saved, with every reason', async (t) => {
  const h = harness(t, [minerView('bitaxe-1'), minerView('nano', { driver: 'cgminer' })]);
  h.fake.modes = () => ['eco', 'standard'];
  try {
    h.addRule({
      trigger: { type: 'price_abve', threshold: 2 } as never,
      action: { type: 'set_mode', mode: 'oc' },
      conditions: { miners: ['bitaxe1'] },
    });
    t.fail('should refuse');
  } catch (err) {
    t.ok(err instanceof RuleInvalidError);
    const msg = (err as Error).message;
    t.match(msg, /trigger.type: unknown type "price_abve" \(did you mean price_above\?\)/);
    t.match(msg, /conditions.miners: unknown miner "bitaxe1" \(did you mean bitaxe-1\?\)/);
  }
  t.throws(
    () => h.addRule({ trigger: { type: 'price_above', threshold: 2 }, action: { type: 'set_mode', mode: 'oc' } }),
    /miner "bitaxe-1" has no mode "oc" \(it has: eco, standard\)/,
  );
  t.throws(
    () =>
      h.addRule({ trigger: { type: 'schedule', cron: '61 * * * *', durationMs: 60_000 }, action: { type: 'pause' } }),
    /cron minute "61" is out of range/,
  );
  t.throws(
    () => h.addRule({ trigger: { type: 'price_negative' }, action: { type: 'restart' }, until: true }),
    /a restart cannot be undone/,
  );
  t.throws(
    () => h.addRule({ trigger: { type: 'price_negative' }, action: { type: 'notify', url: 'ftp://x' } }),
    /is not an http\(s\) URL/,
  );
  h.addRule({ name: 'dup', trigger: { type: 'price_negative' }, action: { type: 'pause' } });
  t.throws(
    () => h.addRule({ name: 'dup', trigger: { type: 'price_negative' }, action: { type: 'pause' } }),
    /a rule named "dup" exists/,
  );
});

t.test('hashrate below expected for a duration, offline for a duration, a cron schedule', async (t) => {
  const now = Date.parse('2026-12-04T12:00:00Z');
  const h = harness(
    t,
    [
      minerView('slow', { expectedHashrateGhs: 1000 }),
      minerView('gone', { status: 'offline', lastSeenAt: now - 20 * 60_000 }),
    ],
    { start: now },
  );
  const stat = (v: number) => ({ min: v, mean: v, max: v });
  h.history.points.set('slow', {
    minerId: 'slow',
    resolution: 'minute',
    stepMs: 60_000,
    points: Array.from({ length: 11 }, (_, i) => ({
      t: now - (10 - i) * 60_000,
      n: 1,
      hashrateGhs: stat(i < 2 ? 950 : 400),
      powerW: stat(15),
      efficiencyJth: null,
      temperatures: {},
      fanRpm: null,
      fanPercent: null,
    })),
  });
  h.addRule({
    name: 'restart slow',
    trigger: { type: 'hashrate_below', percent: 50, forMs: 5 * 60_000 },
    action: { type: 'restart' },
    conditions: { miners: ['slow'] },
  });
  h.addRule({
    name: 'tell me',
    trigger: { type: 'offline', forMs: 15 * 60_000 },
    action: { type: 'restart' },
    conditions: { miners: ['gone'] },
  });
  h.addRule({
    name: 'nightly',
    trigger: { type: 'schedule', cron: '0 12 * * *', durationMs: 3_600_000 },
    action: { type: 'set_mode', mode: 'eco' },
    until: true,
    conditions: { miners: ['slow'] },
  });
  await h.at(now);
  t.same(h.fake.calls.sort(), [
    'mode=eco slow rule:nightly',
    'restart gone rule:tell me',
    'restart slow rule:restart slow',
  ]);
  t.match(
    h.events.rules().find((e) => e.actor === 'rule:restart slow')!.message,
    /below 50 % of 1000 GH\/s \(500 GH\/s\) for 5 min/,
  );
  t.match(h.events.rules().find((e) => e.actor === 'rule:tell me')!.message, /offline for 20 min \(limit 15 min\)/);
  h.fake.calls = [];
  await h.at(now + 3_600_000);
  t.same(h.fake.calls, ['mode=standard slow rule:nightly'], 'the schedule window ends after its duration');
});

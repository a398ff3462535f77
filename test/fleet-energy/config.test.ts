// The [energy] section: every problem at once with its key; time-of-use bands; UK time helpers.
import t from 'tap';
import { parseEnergySection } from '../../fleet/energy/config.js';
import { TimeOfUseSource, createPriceSource } from '../../fleet/energy/sources.js';
import { OctopusClient } from '../../fleet/energy/octopus.js';
import { Problems } from '../../factory/config/problems.js';
import { londonMidnight, londonNextDayStart, SLOT_MS } from '../../shared/london-time.js';
import { parseCron, cronMatches } from '../../fleet/automation/cron.js';

const parse = (section: unknown) => {
  const p = new Problems('fleet.toml');
  const cfg = parseEnergySection(section, p);
  return { cfg, problems: p.list.map((x) => `${x.key}: ${x.message}${x.hint ? ` (${x.hint})` : ''}`) };
};

t.test('a good octopus section', async (t) => {
  const { cfg, problems } = parse({
    source: 'octopus',
    flat_price: 24.5,
    fetch_interval: '15m',
    octopus: { product: 'AGILE-24-10-01', region: 'c', base_url: 'http://127.0.0.1:9999' },
  });
  t.same(problems, []);
  t.same(cfg.octopus, { product: 'AGILE-24-10-01', region: 'C', baseUrl: 'http://127.0.0.1:9999' });
  t.equal(cfg.fetchIntervalMs, 15 * 60_000);
  t.ok(createPriceSource(cfg) instanceof OctopusClient);
  t.equal(createPriceSource(cfg).id, 'octopus:AGILE-24-10-01:C');
});

t.test('every problem at once', async (t) => {
  const { problems } = parse({
    source: 'octopuss',
    flat_prize: 3,
    fetch_interval: 'soon',
    octopus: { product: '', region: 'I', base_url: 'api.octopus.energy' },
    time_of_use: [{ from: '25:00', to: '07:00', price: 'cheap' }],
  });
  t.same(problems, [
    'energy.flat_prize: unknown key (did you mean `flat_price`?)',
    'energy.source: unknown price source "octopuss" (one of: octopus, flat, tou)',
    'energy.fetch_interval: is not a duration: "soon" (write a number with a unit, e.g. "500ms", "30s", "5m", "1h30m" (a bare number is seconds))',
    'energy.octopus.product: must not be empty',
    'energy.octopus.region: "I" is not a region (a GSP group letter: A B C D E F G H J K L M N P (no I, no O); C is London)',
    'energy.octopus.base_url: "api.octopus.energy" is not an http(s) URL (e.g. https://api.octopus.energy)',
    'energy.time_of_use[0].price: must be a number from -1000 to 1000, not a string',
    'energy.time_of_use[0].from: "25:00" is not a time of day (write HH:MM in UK time, e.g. "00:30")',
  ]);
  t.same(parse({ source: 'tou' }).problems, [
    'energy.time_of_use: missing: source = "tou" needs its bands (add [[energy.time_of_use]] blocks with from, to, price)',
  ]);
  t.same(parse({ source: 'octopus' }).problems, [
    'energy.octopus: missing: source = "octopus" needs its settings (add [energy.octopus] with product and region)',
  ]);
});

t.test('time-of-use bands in UK time, wrapping midnight; the flat price elsewhere', async (t) => {
  const { cfg, problems } = parse({
    source: 'tou',
    flat_price: 28,
    time_of_use: [
      { from: '23:30', to: '05:30', price: 7.5 },
      { from: '16:00', to: '19:00', price: 40 },
    ],
  });
  t.same(problems, []);
  const src = createPriceSource(cfg) as TimeOfUseSource;
  // A summer day (BST): 23:30 UK is 22:30 UTC.
  const day = londonMidnight(2026, 7, 1);
  const slots = await src.fetch({ from: day, to: londonNextDayStart(day) });
  t.equal(slots.length, 48);
  const at = (h: number, m: number) => slots.find((s) => s.start === day + (h * 60 + m) * 60_000)!.priceIncVat;
  t.equal(at(0, 0), 7.5);
  t.equal(at(5, 0), 7.5);
  t.equal(at(5, 30), 28);
  t.equal(at(16, 30), 40);
  t.equal(at(23, 30), 7.5);
  t.equal(day, Date.parse('2026-06-30T23:00:00Z'), 'UK midnight in summer is 23:00 UTC');
});

t.test('UK days of 46, 48 and 50 slots; cron in UK time', async (t) => {
  const len = (y: number, m: number, d: number) => (londonMidnight(y, m, d + 1) - londonMidnight(y, m, d)) / SLOT_MS;
  t.equal(len(2026, 3, 29), 46);
  t.equal(len(2026, 10, 25), 50);
  t.equal(len(2026, 12, 4), 48);
  const c = parseCron('30 16 * * 1-5');
  t.ok(cronMatches(c, Date.parse('2026-07-01T15:30:00Z')), '16:30 BST on a Wednesday');
  t.notOk(cronMatches(c, Date.parse('2026-07-04T15:30:00Z')), 'not on a Saturday');
  t.ok(cronMatches(parseCron('*/15 * * * 0,6'), Date.parse('2026-07-04T10:45:00Z')));
  t.throws(() => parseCron('* * *'), /needs 5 fields/);
});

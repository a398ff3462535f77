// rule-engine: the cost of one rule evaluation (plan + act through a no-op actuator + state
// saved) for 1,000 miners and 10 rules of every price kind, over a day of prices in SQLite; and
// the cost of a month's cost report for 1,000 miners from minute roll-ups (a fake history store
// answering from memory, so the figure is the accounting's own).
// Run: npx tsc -p . && node dist/bench/run.js rule-engine [--quick]
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RuleEngine } from '../fleet/automation/engine.js';
import { RuleStore } from '../fleet/automation/store.js';
import type { ActuationResult, RuleActuator, RuleInput } from '../fleet/automation/types.js';
import { CostCalculator } from '../fleet/energy/cost.js';
import { openEnergyDb } from '../fleet/energy/db/open.js';
import { PriceStore } from '../fleet/energy/store.js';
import type { HistoryQuery, HistoryResult, MinerView } from '../fleet/types.js';
import { SLOT_MS, londonMidnight } from '../shared/london-time.js';
import { silentLogger } from '../shared/log.js';
import { runBench } from './lib/bench.js';
import { summarize } from './lib/stats.js';

const ok = async (): Promise<ActuationResult> => ({ ok: true });
const actuator: RuleActuator = {
  modes: () => ['eco', 'standard', 'turbo'],
  hold: ok,
  release: ok,
  setMode: ok,
  pause: ok,
  resume: ok,
  switchPool: ok,
  restart: ok,
  setFan: ok,
};

runBench('rule-engine', async (ctx) => {
  const miners = ctx.quick ? 200 : 1000;
  const passes = ctx.quick ? 10 : 48;
  const edb = openEnergyDb(join(ctx.dir, 'energy.sqlite'));
  const day = londonMidnight(2026, 12, 4);
  const prices = new PriceStore(edb, 25);
  prices.upsert(
    Array.from({ length: 48 }, (_, i) => ({
      start: day + i * SLOT_MS,
      end: day + (i + 1) * SLOT_MS,
      priceIncVat: 10 + ((i * 7) % 30) - (i === 8 ? 15 : 0),
      priceExcVat: null,
      source: 'bench',
    })),
    day,
  );
  const views: MinerView[] = Array.from({ length: miners }, (_, i) => ({
    id: `m${i}`,
    driver: 'axeos',
    address: 'http://127.0.0.1:1',
    options: {},
    tags: [i % 2 ? 'shed' : 'house'],
    source: 'config',
    status: 'online',
    missed: 0,
    lastSeenAt: day,
    last: null,
    lastError: null,
    createdAt: '',
    updatedAt: '',
  }));
  let now = day;
  const rules = new RuleStore(edb, () => now);
  const inputs: RuleInput[] = [
    {
      name: 'dear',
      trigger: { type: 'price_above', threshold: 30 },
      action: { type: 'set_mode', mode: 'eco' },
      until: true,
      priority: 5,
    },
    {
      name: 'cheap',
      trigger: { type: 'price_below', threshold: 15 },
      action: { type: 'set_mode', mode: 'turbo' },
      until: true,
    },
    { name: 'negative', trigger: { type: 'price_negative' }, action: { type: 'resume' }, until: true, priority: 9 },
    {
      name: 'cheapest',
      trigger: { type: 'cheapest_slots', count: 6 },
      action: { type: 'switch_pool', index: 1 },
      until: true,
    },
    {
      name: 'dearest',
      trigger: { type: 'dearest_slots', count: 4 },
      action: { type: 'pause' },
      until: true,
      conditions: { tags: ['shed'] },
    },
    {
      name: 'fan',
      trigger: { type: 'price_above', threshold: 35 },
      action: { type: 'set_fan', percent: 30 },
      until: true,
      undoAction: { type: 'set_fan', percent: 60 },
    },
    {
      name: 'hyst',
      trigger: { type: 'price_above', threshold: 25 },
      hysteresis: 3,
      action: { type: 'set_mode', mode: 'standard' },
      until: true,
    },
    {
      name: 'cool',
      trigger: { type: 'price_below', threshold: 20 },
      cooldownMs: 3_600_000,
      action: { type: 'set_mode', mode: 'eco' },
      until: true,
      priority: -1,
    },
    {
      name: 'night',
      trigger: { type: 'schedule', cron: '0 1 * * *', durationMs: 3_600_000 },
      action: { type: 'restart' },
    },
    {
      name: 'house',
      trigger: { type: 'price_below', threshold: 40 },
      action: { type: 'resume' },
      conditions: { tags: ['house'] },
    },
  ];
  for (const r of inputs) rules.add(r, 'bench');
  const engine = new RuleEngine({
    rules,
    miners: { list: () => views },
    prices,
    events: { append: (e) => ({ ...e, id: 0, at: '', minerId: null, level: 'info', actor: null, data: null }) },
    actuator,
    now: () => now,
    log: silentLogger(),
  });
  const evalMs: number[] = [];
  let decisions = 0;
  for (let i = 0; i < passes; i++) {
    now = day + i * SLOT_MS + 60_000;
    const t0 = performance.now();
    const r = await engine.evaluate();
    evalMs.push(performance.now() - t0);
    decisions += r.decisions.length;
  }
  // A month of minute roll-ups per miner, merged to half-hours by the store: 1,488 points each.
  const points = Array.from({ length: 31 * 48 }, (_, i) => ({
    t: day - 30 * 86_400_000 + i * SLOT_MS,
    n: 30,
    hashrateGhs: { min: 1000, mean: 1000, max: 1000 },
    powerW: { min: 15, mean: 15, max: 15 },
    efficiencyJth: null,
    temperatures: {},
    fanRpm: null,
    fanPercent: null,
  }));
  const history = {
    query: (q: HistoryQuery): HistoryResult => ({
      minerId: q.minerId,
      resolution: 'minute',
      stepMs: SLOT_MS,
      points: points.filter((p) => p.t >= q.from && p.t < q.to),
    }),
  };
  const cost = new CostCalculator(history, prices, 25);
  const t0 = performance.now();
  const report = cost.fleet({ list: () => views }, { from: day - 30 * 86_400_000, to: day + 86_400_000 });
  const costMs = performance.now() - t0;
  edb.close();
  return {
    miners,
    rules: inputs.length,
    passes,
    decisions,
    evaluate_ms: summarize(evalMs),
    month_cost_report_ms: Math.round(costMs),
    month_kwh: report.total.kWh,
  };
});

// A rule engine over an in-memory energy database, a clock the test moves, fake miners and a
// recording actuator.
import { openEnergyDb } from '../../fleet/energy/db/open.js';
import { PriceStore } from '../../fleet/energy/store.js';
import { RuleEngine } from '../../fleet/automation/engine.js';
import type { Notifier } from '../../fleet/automation/notify.js';
import { RuleStore } from '../../fleet/automation/store.js';
import type { RuleActuator, RuleInput } from '../../fleet/automation/types.js';
import { validateRule } from '../../fleet/automation/validate.js';
import type { MinerView } from '../../fleet/types.js';
import { SLOT_MS } from '../../shared/london-time.js';
import { silentLogger } from '../../shared/log.js';
import { FakeActuator, FixedHistory, FixedMiners, MemoryEvents } from './support.js';

export function harness(
  t: { teardown(fn: () => void): void },
  miners: MinerView[],
  opts: { actuator?: RuleActuator; notify?: Notifier; start?: number } = {},
) {
  const edb = openEnergyDb(':memory:');
  t.teardown(() => edb.close());
  const clock = { now: opts.start ?? Date.parse('2026-12-04T00:00:00Z') };
  const prices = new PriceStore(edb, 30);
  const rules = new RuleStore(edb, () => clock.now);
  const events = new MemoryEvents();
  const fake = new FakeActuator();
  const actuator = opts.actuator ?? fake;
  const minerStore = new FixedMiners(miners);
  const history = new FixedHistory(new Map());
  const engine = new RuleEngine({
    rules,
    miners: minerStore,
    prices,
    history,
    events,
    actuator,
    notify: opts.notify,
    now: () => clock.now,
    log: silentLogger(),
  });
  return {
    edb,
    clock,
    prices,
    rules,
    events,
    fake,
    actuator,
    minerStore,
    history,
    engine,
    /** Stores hand-chosen prices: one per slot from `start`. */
    setPrices(start: number, values: number[]) {
      prices.upsert(
        values.map((v, i) => ({
          start: start + i * SLOT_MS,
          end: start + (i + 1) * SLOT_MS,
          priceIncVat: v,
          priceExcVat: null,
          source: 'test',
        })),
        clock.now,
      );
    },
    addRule(input: Omit<RuleInput, 'name'> & { name?: string }) {
      return rules.add(
        validateRule({ name: `r${rules.list().length + 1}`, ...input }, { miners: minerStore.list(), actuator }),
        'test',
      );
    },
    /** Moves the clock to `ms` and evaluates once. */
    async at(ms: number) {
      clock.now = ms;
      return engine.evaluate();
    },
  };
}

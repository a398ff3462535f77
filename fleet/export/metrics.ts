// The fleet's Prometheus metrics: read from the stores at scrape time (nothing to keep in step),
// except events, which are counted as they are appended. Names in base units (hashes per second,
// watts, joules per hash, celsius); labels name miners, models, sensors and rules — all bounded by
// the config — never ids that grow without end.
import { Counter, Gauge, Registry } from 'prom-client';
import type { CollectorHandle, DesiredStore, EventStore, FleetEvent, MinerStore, MinerView } from '../types.js';
import { MODES } from '../../runner/drivers/types.js';

/** The energy price now, when the energy part knows one (major currency units per kWh). */
export interface PriceNow {
  perKwh: number;
  currency: string;
}

export interface FleetMetricsInput {
  miners: MinerStore;
  collector?: CollectorHandle;
  /** The mode the fleet wants each miner in (the `mode` gauge); else the mode is not exported. */
  desired?: Pick<DesiredStore, 'get'>;
  /** Counted as appended: events by kind and level, rule firings by rule and outcome. */
  events?: Pick<EventStore, 'subscribe'>;
  /** The modes a miner offers (one `mode` series each). Default: eco, standard, turbo, oc. */
  modesOf?: (m: MinerView) => string[];
  /** The price now (the energy issue fills it); absent or null: the gauge has no sample. */
  price?: () => PriceNow | null;
}

export interface FleetMetrics {
  registry: Registry;
  /** Stops counting events. */
  close(): void;
}

/** Every metric name the fleet registers (the Grafana dashboard test checks its queries against it). */
export const FLEET_METRIC_NAMES = [
  'mvm_fleet_miners',
  'mvm_fleet_miner_online',
  'mvm_fleet_miner_hashrate_hashes_per_second',
  'mvm_fleet_miner_expected_hashrate_hashes_per_second',
  'mvm_fleet_miner_power_watts',
  'mvm_fleet_miner_efficiency_joules_per_hash',
  'mvm_fleet_miner_temperature_celsius',
  'mvm_fleet_miner_fan_rpm',
  'mvm_fleet_miner_fan_ratio',
  'mvm_fleet_miner_shares_accepted_total',
  'mvm_fleet_miner_shares_rejected_total',
  'mvm_fleet_miner_last_seen_timestamp_seconds',
  'mvm_fleet_miner_mode',
  'mvm_fleet_collector_last_round_duration_seconds',
  'mvm_fleet_collector_rounds_total',
  'mvm_fleet_collector_in_flight',
  'mvm_fleet_energy_price_per_kwh',
  'mvm_fleet_events_total',
  'mvm_fleet_rule_firings_total',
] as const;

const GHS = 1e9;
/** J/TH to J/H. */
const PER_TH = 1e-12;

function identity(m: MinerView): { miner: string; model: string } {
  return { miner: m.id, model: m.model ?? m.hardware ?? m.driver };
}

/** A rule's name and outcome from a fleet event, or undefined when the event is not about a rule. */
export function ruleOutcome(e: FleetEvent): { rule: string; outcome: string } | undefined {
  const byRule = e.actor?.startsWith('rule:') ? e.actor.slice(5) : undefined;
  const named = typeof e.data?.rule === 'string' ? (e.data.rule as string) : byRule;
  if (e.kind === 'rule' && named) {
    const outcome =
      typeof e.data?.outcome === 'string' ? (e.data.outcome as string) : e.level === 'info' ? 'fired' : 'failed';
    return { rule: named, outcome };
  }
  if (e.kind === 'refused' && byRule) return { rule: byRule, outcome: 'refused' };
  return undefined;
}

export function buildFleetMetrics(input: FleetMetricsInput): FleetMetrics {
  const registry = new Registry();
  const list = () => input.miners.list();
  /** A gauge set afresh at each scrape from the miners' last readings. */
  const perMiner = (name: string, help: string, labelNames: string[], fill: (g: Gauge, m: MinerView) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const m of list()) fill(this, m);
      },
    });
  const set = (g: Gauge, labels: Record<string, string>, v: number | null | undefined) => {
    if (v !== null && v !== undefined && Number.isFinite(v)) g.set(labels, v);
  };
  const ids = ['miner', 'model'];

  new Gauge({
    name: 'mvm_fleet_miners',
    help: 'Miners the fleet knows, by status',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const counts: Record<string, number> = { online: 0, offline: 0, unknown: 0 };
      for (const m of list()) counts[m.status] = (counts[m.status] ?? 0) + 1;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
  perMiner(
    'mvm_fleet_miner_online',
    '1 when the miner answered its last reading, 0 when not, absent when never read',
    ids,
    (g, m) => {
      if (m.status !== 'unknown') g.set(identity(m), m.status === 'online' ? 1 : 0);
    },
  );
  perMiner(
    'mvm_fleet_miner_hashrate_hashes_per_second',
    'Hashrate the miner reported in its last reading',
    ids,
    (g, m) => set(g, identity(m), m.last?.hashrateGhs == null ? null : m.last.hashrateGhs * GHS),
  );
  perMiner(
    'mvm_fleet_miner_expected_hashrate_hashes_per_second',
    'Hashrate the miner should reach (config, else what it reports)',
    ids,
    (g, m) => {
      const ghs = m.expectedHashrateGhs ?? m.last?.expectedHashrateGhs ?? null;
      set(g, identity(m), ghs === null ? null : ghs * GHS);
    },
  );
  perMiner('mvm_fleet_miner_power_watts', 'Power the miner draws', ids, (g, m) => set(g, identity(m), m.last?.powerW));
  perMiner('mvm_fleet_miner_efficiency_joules_per_hash', 'Energy per hash (J/TH = this × 1e12)', ids, (g, m) =>
    set(g, identity(m), m.last?.efficiencyJth == null ? null : m.last.efficiencyJth * PER_TH),
  );
  perMiner('mvm_fleet_miner_temperature_celsius', 'Temperatures by sensor', [...ids, 'sensor'], (g, m) => {
    for (const [sensor, c] of Object.entries(m.last?.temperatures ?? {})) set(g, { ...identity(m), sensor }, c);
  });
  perMiner('mvm_fleet_miner_fan_rpm', 'Fan speed by fan, revolutions per minute', [...ids, 'fan'], (g, m) => {
    for (const f of m.last?.fans ?? []) set(g, { ...identity(m), fan: f.name }, f.rpm);
  });
  perMiner('mvm_fleet_miner_fan_ratio', 'Fan duty by fan, 0 to 1', [...ids, 'fan'], (g, m) => {
    for (const f of m.last?.fans ?? [])
      set(g, { ...identity(m), fan: f.name }, f.percent == null ? null : f.percent / 100);
  });
  perMiner(
    'mvm_fleet_miner_last_seen_timestamp_seconds',
    'When the miner last answered, seconds since the epoch',
    ids,
    (g, m) => set(g, identity(m), m.lastSeenAt === null ? null : m.lastSeenAt / 1000),
  );
  // Share counters come from the device: they restart at zero when it reboots, which Prometheus's
  // rate() treats as a counter reset.
  for (const [name, help, field] of [
    ['mvm_fleet_miner_shares_accepted_total', 'Shares the pool accepted, as the miner counts them', 'sharesAccepted'],
    ['mvm_fleet_miner_shares_rejected_total', 'Shares the pool rejected, as the miner counts them', 'sharesRejected'],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ids,
      registers: [registry],
      collect() {
        this.reset();
        for (const m of list()) {
          const v = m.last?.[field];
          if (v !== null && v !== undefined && v >= 0) this.inc(identity(m), v);
        }
      },
    });
  }
  if (input.desired) {
    const desired = input.desired;
    perMiner(
      'mvm_fleet_miner_mode',
      '1 for the mode the fleet keeps the miner in (one series per mode)',
      [...ids, 'mode'],
      (g, m) => {
        const mode = desired.get(m.id)?.mode;
        if (!mode) return;
        for (const each of new Set<string>([...(input.modesOf?.(m) ?? MODES), mode]))
          g.set({ ...identity(m), mode: each }, each === mode ? 1 : 0);
      },
    );
  }

  if (input.collector) {
    const c = input.collector;
    new Gauge({
      name: 'mvm_fleet_collector_last_round_duration_seconds',
      help: 'How long the last collection round took',
      registers: [registry],
      collect() {
        const ms = c.stats().lastRoundMs;
        if (ms !== null) this.set(ms / 1000);
      },
    });
    new Counter({
      name: 'mvm_fleet_collector_rounds_total',
      help: 'Collection rounds completed',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(c.stats().rounds);
      },
    });
    new Gauge({
      name: 'mvm_fleet_collector_in_flight',
      help: 'Readings under way now',
      registers: [registry],
      collect() {
        this.set(c.stats().inFlight);
      },
    });
  }

  new Gauge({
    name: 'mvm_fleet_energy_price_per_kwh',
    help: 'Energy price now, currency units per kWh',
    labelNames: ['currency'],
    registers: [registry],
    collect() {
      this.reset();
      const p = input.price?.();
      if (p && Number.isFinite(p.perKwh)) this.set({ currency: p.currency }, p.perKwh);
    },
  });

  const events = new Counter({
    name: 'mvm_fleet_events_total',
    help: 'Fleet events appended, by kind and level',
    labelNames: ['kind', 'level'],
    registers: [registry],
  });
  const firings = new Counter({
    name: 'mvm_fleet_rule_firings_total',
    help: 'Automation rule outcomes (fired, refused, failed, dry-run)',
    labelNames: ['rule', 'outcome'],
    registers: [registry],
  });
  const unsubscribe =
    input.events?.subscribe((e) => {
      events.inc({ kind: e.kind, level: e.level });
      const r = ruleOutcome(e);
      if (r) firings.inc(r);
    }) ?? (() => {});

  return { registry, close: unsubscribe };
}

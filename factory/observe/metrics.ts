// The factory's Prometheus metrics. Gauges are read from its database at scrape time (testbeds by
// state and health, instances by state, reservations); counters and durations of restores, health
// checks and agent failures come from the journal, read after a cursor at each scrape, so the loop
// itself needs no hooks; tick durations and lease counts come from each pass's report.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withProcessMetrics } from '../../shared/observe/process-metrics.js';
import type { FactoryStore } from '../store.js';
import type { TickReport } from '../tick.js';

export const FACTORY_METRIC_NAMES = [
  'mvm_factory_testbeds',
  'mvm_factory_testbed_health',
  'mvm_factory_instances',
  'mvm_factory_reservations',
  'mvm_factory_tick_duration_seconds',
  'mvm_factory_tick_errors_total',
  'mvm_factory_last_pass_timestamp_seconds',
  'mvm_factory_leases_total',
  'mvm_factory_agents_started_total',
  'mvm_factory_agents_failed_total',
  'mvm_factory_restores_total',
  'mvm_factory_restore_duration_seconds',
  'mvm_factory_health_checks_total',
  'mvm_factory_health_check_duration_seconds',
  'mvm_factory_reservations_made_total',
  'mvm_factory_reservations_expired_total',
  'mvm_factory_infra_failures_total',
] as const;

export interface FactoryMetricsInput {
  store: FactoryStore;
  /** Testbeds as the API shows them: state ("free" or the first blocker) and health. */
  testbeds: () => Array<{ name: string; state: string; health: string }>;
}

export interface FactoryMetrics {
  registry: Registry;
  /** Records one pass of the loop. */
  observeTick(ms: number, report: TickReport | undefined): void;
}

const HEALTH_STATES = ['unknown', 'checking', 'good', 'bad', 'maintenance', 'retired'];
const INSTANCE_STATES = ['created', 'running', 'destroying', 'destroyed'];
const RESTORE_OUTCOME: Record<string, string> = {
  restored: 'ok',
  'restore-skipped': 'skipped',
  'restore-failed': 'failed',
};
const CHECK_OUTCOME: Record<string, string> = {
  'check-passed': 'passed',
  'check-failed': 'failed',
  'check-interrupted': 'interrupted',
  'check-ignored': 'ignored',
};
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

interface JournalRow {
  id: number;
  at: number;
  kind: string;
  message: string;
  instance_id: string | null;
  testbed: string | null;
}

export function buildFactoryMetrics(
  input: FactoryMetricsInput,
  opts: { processMetrics?: boolean } = {},
): FactoryMetrics {
  const registry = new Registry();
  const sqlite = input.store.opened.sqlite;
  const all = <T>(sql: string, ...params: unknown[]) => sqlite.prepare(sql).all(...params) as T[];

  new Gauge({
    name: 'mvm_factory_testbeds',
    help: 'Testbeds by state (free, or what blocks them: busy, reserved, bad, maintenance…) and health',
    labelNames: ['state', 'health'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const t of input.testbeds())
        counts.set(`${t.state}\n${t.health}`, (counts.get(`${t.state}\n${t.health}`) ?? 0) + 1);
      for (const [k, n] of counts) {
        const [state, health] = k.split('\n');
        this.set({ state, health }, n);
      }
    },
  });
  new Gauge({
    name: 'mvm_factory_testbed_health',
    help: '1 for the health each testbed is in (one series per health state)',
    labelNames: ['testbed', 'health'],
    registers: [registry],
    collect() {
      this.reset();
      for (const t of input.testbeds())
        for (const h of HEALTH_STATES) this.set({ testbed: t.name, health: h }, t.health === h ? 1 : 0);
    },
  });
  new Gauge({
    name: 'mvm_factory_instances',
    help: 'Instances by state (destroyed: the history kept in the database)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts: Record<string, number> = Object.fromEntries(INSTANCE_STATES.map((s) => [s, 0]));
      for (const r of all<{ state: string; n: number }>('select state, count(*) as n from instances group by state'))
        counts[r.state] = r.n;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'mvm_factory_reservations',
    help: 'Testbeds reserved by people right now',
    registers: [registry],
    collect() {
      this.set(input.store.reservations.list().length);
    },
  });

  const tick = new Histogram({
    name: 'mvm_factory_tick_duration_seconds',
    help: 'Duration of one reconciliation pass (a held lease call included)',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [registry],
  });
  const lastPass = new Gauge({
    name: 'mvm_factory_last_pass_timestamp_seconds',
    help: 'When the last reconciliation pass ended (Unix time; `mvm status` shows its age)',
    registers: [registry],
  });
  const tickErrors = new Counter({
    name: 'mvm_factory_tick_errors_total',
    help: 'Errors logged by passes of the loop',
    registers: [registry],
  });
  const leases = new Counter({
    name: 'mvm_factory_leases_total',
    help: 'Jobs leased from the job server',
    registers: [registry],
  });
  const started = new Counter({
    name: 'mvm_factory_agents_started_total',
    help: 'Agents started for leased jobs',
    registers: [registry],
  });

  const agentsFailed = new Counter({
    name: 'mvm_factory_agents_failed_total',
    help: 'Agents that failed to start',
    registers: [registry],
  });
  const restores = new Counter({
    name: 'mvm_factory_restores_total',
    help: 'Baseline restores after jobs, by outcome (ok, skipped, failed)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const restoreDuration = new Histogram({
    name: 'mvm_factory_restore_duration_seconds',
    help: 'From the start of an instance teardown to its restore outcome',
    labelNames: ['outcome'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const checks = new Counter({
    name: 'mvm_factory_health_checks_total',
    help: 'Testbed health checks ended, by outcome (passed, failed, interrupted, ignored)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const checkDuration = new Histogram({
    name: 'mvm_factory_health_check_duration_seconds',
    help: 'Duration of testbed health checks',
    labelNames: ['outcome'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const reserved = new Counter({
    name: 'mvm_factory_reservations_made_total',
    help: 'Reservations taken',
    registers: [registry],
  });
  const expired = new Counter({
    name: 'mvm_factory_reservations_expired_total',
    help: 'Reservations that lapsed (TTL over)',
    registers: [registry],
  });
  const infra = new Counter({
    name: 'mvm_factory_infra_failures_total',
    help: 'Infrastructure failures recorded against testbeds',
    registers: [registry],
  });
  for (const outcome of ['ok', 'skipped', 'failed']) restores.inc({ outcome }, 0);
  for (const outcome of ['passed', 'failed']) checks.inc({ outcome }, 0);

  // The journal after the cursor; starts where the journal ends now (counters count from start-up).
  let cursor = (all<{ id: number | null }>('select max(id) as id from events')[0]?.id ?? 0) as number;
  const teardownStarted = new Map<string, number>();
  const checkStarted = new Map<string, number>();
  const readJournal = () => {
    for (;;) {
      const rows = all<JournalRow>(
        'select id, at, kind, message, instance_id, testbed from events where id > ? order by id limit 1000',
        cursor,
      );
      for (const r of rows) {
        cursor = r.id;
        if (r.kind === 'destroying' && r.instance_id) {
          teardownStarted.set(r.instance_id, r.at);
          if (r.message.startsWith('agent failed to start')) agentsFailed.inc();
        } else if (RESTORE_OUTCOME[r.kind]) {
          const outcome = RESTORE_OUTCOME[r.kind];
          restores.inc({ outcome });
          const from = r.instance_id ? teardownStarted.get(r.instance_id) : undefined;
          if (from !== undefined) restoreDuration.observe({ outcome }, Math.max(0, r.at - from) / 1000);
        } else if (r.kind === 'destroyed' && r.instance_id) {
          teardownStarted.delete(r.instance_id);
        } else if (r.kind === 'check-started' && r.testbed) {
          checkStarted.set(r.testbed, r.at);
        } else if (CHECK_OUTCOME[r.kind] && r.testbed) {
          const outcome = CHECK_OUTCOME[r.kind];
          checks.inc({ outcome });
          const from = checkStarted.get(r.testbed);
          checkStarted.delete(r.testbed);
          if (from !== undefined) checkDuration.observe({ outcome }, Math.max(0, r.at - from) / 1000);
        } else if (r.kind === 'reserved') reserved.inc();
        else if (r.kind === 'reservation-expired') expired.inc();
        else if (r.kind === 'infra-failure') infra.inc();
      }
      if (rows.length < 1000) return;
    }
  };
  // Any one of the journal's metrics being scraped brings them all up to date.
  const journalBacked = [agentsFailed, restores, restoreDuration, checks, checkDuration, reserved, expired, infra];
  for (const m of journalBacked) (m as unknown as { collect: () => void }).collect = readJournal;

  return {
    registry: opts.processMetrics === false ? registry : withProcessMetrics(registry),
    observeTick(ms, report) {
      tick.observe(ms / 1000);
      lastPass.set(Date.now() / 1000);
      if (!report) return;
      leases.inc(report.leased);
      started.inc(report.started);
      tickErrors.inc(report.errors);
    },
  };
}

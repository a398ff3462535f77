#!/usr/bin/env node
// Writes deploy/grafana/mvm.json, the Grafana dashboard for an mvm fleet and lab, from the panel
// list below (edit here, then run `node deploy/grafana/make-dashboard.mjs`). The test
// test/deploy/grafana.test.ts checks that every query names metrics the daemons register.
import { writeFileSync } from 'node:fs';

const ds = { type: 'prometheus', uid: '${datasource}' };
let id = 0;
const grid = { x: 0, y: 0 };
function place(w, h) {
  if (grid.x + w > 24) {
    grid.x = 0;
    grid.y += h;
  }
  const pos = { x: grid.x, y: grid.y, w, h };
  grid.x += w;
  return pos;
}
function row(title) {
  if (grid.x > 0) grid.y += 8;
  grid.x = 0;
  const r = { type: 'row', id: ++id, title, collapsed: false, gridPos: { x: 0, y: grid.y, w: 24, h: 1 }, panels: [] };
  grid.y += 1;
  return r;
}
function panel(type, title, targets, { unit, w = 12, h = 8, stack = false, min } = {}) {
  return {
    type,
    id: ++id,
    title,
    datasource: ds,
    gridPos: place(w, h),
    fieldConfig: {
      defaults: {
        unit: unit ?? 'short',
        ...(min !== undefined ? { min } : {}),
        custom: type === 'timeseries' ? { stacking: { mode: stack ? 'normal' : 'none' } } : {},
      },
      overrides: [],
    },
    options:
      type === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value' }
        : { legend: { displayMode: 'list', placement: 'bottom' } },
    targets: targets.map(([expr, legendFormat], i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: ds,
      expr,
      legendFormat,
    })),
  };
}
const sel = '{miner=~"$miner"}';

const panels = [
  row('Fleet'),
  panel('stat', 'Hashrate', [['sum(mvm_fleet_miner_hashrate_hashes_per_second' + sel + ')', 'actual']], {
    unit: 'Hs',
    w: 6,
    h: 4,
  }),
  panel('stat', 'Power', [['sum(mvm_fleet_miner_power_watts' + sel + ')', 'power']], { unit: 'watt', w: 6, h: 4 }),
  panel(
    'stat',
    'Efficiency (J/TH)',
    [
      [
        'sum(mvm_fleet_miner_power_watts' +
          sel +
          ') / (sum(mvm_fleet_miner_hashrate_hashes_per_second' +
          sel +
          ') / 1e12)',
        'J/TH',
      ],
    ],
    { unit: 'none', w: 6, h: 4 },
  ),
  panel(
    'stat',
    'Miners online',
    [
      ['sum(mvm_fleet_miners{status="online"})', 'online'],
      ['sum(mvm_fleet_miners)', 'all'],
    ],
    { w: 6, h: 4 },
  ),
  panel(
    'timeseries',
    'Hashrate by miner (actual and expected)',
    [
      ['mvm_fleet_miner_hashrate_hashes_per_second' + sel, '{{miner}}'],
      ['mvm_fleet_miner_expected_hashrate_hashes_per_second' + sel, '{{miner}} expected'],
    ],
    { unit: 'Hs' },
  ),
  panel('timeseries', 'Power by miner', [['mvm_fleet_miner_power_watts' + sel, '{{miner}}']], {
    unit: 'watt',
    stack: true,
  }),
  panel(
    'timeseries',
    'Efficiency by miner (J/TH)',
    [['mvm_fleet_miner_efficiency_joules_per_hash' + sel + ' * 1e12', '{{miner}}']],
    { unit: 'none' },
  ),
  panel('timeseries', 'Temperatures', [['mvm_fleet_miner_temperature_celsius' + sel, '{{miner}} {{sensor}}']], {
    unit: 'celsius',
  }),
  panel('timeseries', 'Fans', [['mvm_fleet_miner_fan_rpm' + sel, '{{miner}} {{fan}}']], { unit: 'rpm' }),
  panel(
    'timeseries',
    'Share rejection rate',
    [
      [
        'rate(mvm_fleet_miner_shares_rejected_total' +
          sel +
          '[10m]) / clamp_min(rate(mvm_fleet_miner_shares_accepted_total' +
          sel +
          '[10m]) + rate(mvm_fleet_miner_shares_rejected_total' +
          sel +
          '[10m]), 1e-9)',
        '{{miner}}',
      ],
    ],
    { unit: 'percentunit' },
  ),
  panel('timeseries', 'Shares accepted per minute', [
    ['rate(mvm_fleet_miner_shares_accepted_total' + sel + '[5m]) * 60', '{{miner}}'],
  ]),
  panel('state-timeline', 'Online and mode', [
    ['mvm_fleet_miner_online' + sel, '{{miner}} online'],
    ['mvm_fleet_miner_mode' + sel + ' == 1', '{{miner}} {{mode}}'],
  ]),
  panel('timeseries', 'Energy price and rule firings', [
    ['mvm_fleet_energy_price_per_kwh', 'price ({{currency}}/kWh)'],
    ['increase(mvm_fleet_rule_firings_total[1h])', '{{rule}} {{outcome}}'],
  ]),
  panel(
    'timeseries',
    'Collector',
    [
      ['mvm_fleet_collector_last_round_duration_seconds', 'last round'],
      ['rate(mvm_fleet_collector_rounds_total[5m]) * 60', 'rounds per minute'],
      ['mvm_fleet_collector_in_flight', 'readings in flight'],
    ],
    { unit: 's' },
  ),
  panel('timeseries', 'Fleet events', [['sum by (kind) (increase(mvm_fleet_events_total[1h]))', '{{kind}}']]),
  row('Lab: job server'),
  panel('timeseries', 'Jobs by state', [['mvm_server_jobs', '{{state}}']], { stack: true }),
  panel('timeseries', 'Queue depth by target', [['mvm_server_queue_depth', '{{target}}']]),
  panel(
    'timeseries',
    'Submit to assign latency',
    [
      ['histogram_quantile(0.5, sum by (le) (rate(mvm_server_job_assign_latency_seconds_bucket[15m])))', 'p50'],
      ['histogram_quantile(0.9, sum by (le) (rate(mvm_server_job_assign_latency_seconds_bucket[15m])))', 'p90'],
    ],
    { unit: 's' },
  ),
  panel('timeseries', 'Workers by state', [['mvm_server_workers', '{{state}}']], { stack: true }),
  panel('timeseries', 'Events appended per second', [['rate(mvm_server_events_appended_total[5m])', 'events']]),
  panel('timeseries', 'Bytes stored', [['mvm_server_stored_bytes', '{{kind}}']], { unit: 'bytes', stack: true }),
  row('Lab: factory'),
  panel('timeseries', 'Testbeds by state', [['sum by (state) (mvm_factory_testbeds)', '{{state}}']], { stack: true }),
  panel('state-timeline', 'Testbed health', [['mvm_factory_testbed_health == 1', '{{testbed}} {{health}}']]),
  panel('timeseries', 'Instances', [
    ['mvm_factory_instances{state!="destroyed"}', '{{state}}'],
    ['mvm_factory_reservations', 'reservations'],
  ]),
  panel(
    'timeseries',
    'Tick duration and time since the last pass',
    [
      ['histogram_quantile(0.9, sum by (le) (rate(mvm_factory_tick_duration_seconds_bucket[15m])))', 'p90'],
      ['time() - mvm_factory_last_pass_timestamp_seconds', 'since the last pass'],
    ],
    { unit: 's' },
  ),
  panel('timeseries', 'Leases and agents per hour', [
    ['increase(mvm_factory_leases_total[1h])', 'leases'],
    ['increase(mvm_factory_agents_started_total[1h])', 'agents started'],
    ['increase(mvm_factory_agents_failed_total[1h])', 'agents failed'],
  ]),
  panel('timeseries', 'Restores and health checks per hour', [
    ['sum by (outcome) (increase(mvm_factory_restores_total[1h]))', 'restore {{outcome}}'],
    ['sum by (outcome) (increase(mvm_factory_health_checks_total[1h]))', 'check {{outcome}}'],
    ['increase(mvm_factory_infra_failures_total[1h])', 'infrastructure failures'],
  ]),
  panel(
    'timeseries',
    'Restore and health check duration (p90)',
    [
      ['histogram_quantile(0.9, sum by (le) (rate(mvm_factory_restore_duration_seconds_bucket[1h])))', 'restore'],
      [
        'histogram_quantile(0.9, sum by (le) (rate(mvm_factory_health_check_duration_seconds_bucket[1h])))',
        'health check',
      ],
    ],
    { unit: 's' },
  ),
];

const dashboard = {
  __inputs: [
    { name: 'datasource', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' },
  ],
  uid: 'mvm-fleet-lab',
  title: 'mvm: fleet and lab',
  tags: ['mvm', 'mining'],
  timezone: 'browser',
  schemaVersion: 39,
  version: 1,
  refresh: '30s',
  time: { from: 'now-6h', to: 'now' },
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus', current: {} },
      {
        name: 'miner',
        type: 'query',
        datasource: ds,
        query: 'label_values(mvm_fleet_miner_online, miner)',
        includeAll: true,
        multi: true,
        allValue: '.*',
        current: { text: 'All', value: '$__all' },
        refresh: 2,
      },
    ],
  },
  panels,
};
writeFileSync(new URL('./mvm.json', import.meta.url), `${JSON.stringify(dashboard, null, 2)}\n`);

// The Grafana dashboard and the Prometheus example: every metric a query names is one a daemon
// registers (the lists are checked against the registries themselves), the file is what its
// generator writes, and the scrape config points at the daemons' default ports.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { buildFleetMetrics, FLEET_METRIC_NAMES } from '../../fleet/export/metrics.js';
import { buildFactoryMetrics, FACTORY_METRIC_NAMES } from '../../factory/observe/metrics.js';
import { buildServerMetrics, SERVER_METRIC_NAMES } from '../../server/observe/metrics.js';
import type { ServerContext } from '../../server/context.js';
import type { FactoryStore } from '../../factory/store.js';
import { projectPath } from '../../shared/paths.js';
import { FakeCollector, FakeDesired, FakeEvents, FakeMiners } from '../fleet/fakes.js';

const PROMQL_WORDS = new Set([
  'sum',
  'time',
  'avg',
  'min',
  'max',
  'count',
  'by',
  'without',
  'rate',
  'irate',
  'increase',
  'delta',
  'histogram_quantile',
  'clamp_min',
  'clamp_max',
  'label_values',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'topk',
  'bottomk',
  'abs',
  'le',
]);

/** The metric names a PromQL expression uses (labels, strings, ranges and functions left out). */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\$\w+/g, '')
    .replace(/(?<![A-Za-z0-9_:])\d+(\.\d+)?([eE][+-]?\d+)?/g, '');
  const out: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    if (PROMQL_WORDS.has(word) || /^\d/.test(word)) continue;
    out.push(word);
  }
  return out;
}

const familyOf = (name: string) => name.replace(/_(bucket|count|sum)$/, '');

t.test('the name lists are what the registries register', async (t) => {
  const fleet = buildFleetMetrics({
    miners: new FakeMiners(),
    collector: new FakeCollector(),
    desired: new FakeDesired(),
    events: new FakeEvents(),
    price: () => null,
  });
  t.same(
    fleet.registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .sort(),
    [...FLEET_METRIC_NAMES].sort(),
  );
  fleet.close();
  const server = buildServerMetrics({ now: () => 0 } as unknown as ServerContext, { processMetrics: false });
  t.same(
    server
      .getMetricsAsArray()
      .map((m) => m.name)
      .sort(),
    [...SERVER_METRIC_NAMES].sort(),
  );
  const store = { opened: { sqlite: { prepare: () => ({ all: () => [{ id: 0 }] }) } } } as unknown as FactoryStore;
  const factory = buildFactoryMetrics({ store, testbeds: () => [] }, { processMetrics: false });
  t.same(
    factory.registry
      .getMetricsAsArray()
      .map((m) => m.name)
      .sort(),
    [...FACTORY_METRIC_NAMES].sort(),
  );
});

t.test('every dashboard query uses metrics that exist', async (t) => {
  const known = new Set<string>([...FLEET_METRIC_NAMES, ...SERVER_METRIC_NAMES, ...FACTORY_METRIC_NAMES]);
  const dash = JSON.parse(readFileSync(projectPath('deploy', 'grafana', 'mvm.json'), 'utf8'));
  const exprs: string[] = [];
  const walk = (panels: Array<{ targets?: Array<{ expr: string }>; panels?: unknown[] }>) => {
    for (const p of panels) {
      for (const target of p.targets ?? []) exprs.push(target.expr);
      if (p.panels) walk(p.panels as never);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating.list)
    if (v.type === 'query') exprs.push(String(v.query).replace(/^label_values\((\w+),.*$/, '$1'));
  t.ok(exprs.length > 30, `${exprs.length} queries`);
  const used = new Set<string>();
  for (const e of exprs) {
    const names = metricNames(e);
    t.ok(names.length > 0, `a metric in: ${e}`);
    for (const n of names) {
      used.add(familyOf(n));
      t.ok(known.has(familyOf(n)), `${n} (in ${e}) is registered`);
    }
  }
  t.same(
    metricNames('sum by (le) (rate(x_bucket{a="b{c}"}[5m])) / 1e12 + 1e-9'),
    ['x_bucket'],
    'the name finder itself',
  );
  const unused = [...known].filter(
    (n) =>
      !used.has(n) &&
      ![
        'mvm_server_held_pings',
        'mvm_server_hold',
        'mvm_fleet_miner_fan_ratio',
        'mvm_fleet_miner_last_seen_timestamp_seconds',
        'mvm_factory_tick_errors_total',
        'mvm_factory_reservations_made_total',
        'mvm_factory_reservations_expired_total',
      ].includes(n),
  );
  t.same(unused, [], 'the dashboard shows every other metric');
});

t.test('the dashboard is what its generator writes', async (t) => {
  const before = readFileSync(projectPath('deploy', 'grafana', 'mvm.json'), 'utf8');
  execFileSync(process.execPath, [projectPath('deploy', 'grafana', 'make-dashboard.mjs')]);
  t.equal(
    readFileSync(projectPath('deploy', 'grafana', 'mvm.json'), 'utf8'),
    before,
    'run node deploy/grafana/make-dashboard.mjs after editing it',
  );
});

t.test('the Prometheus example scrapes the three daemons', async (t) => {
  const cfg = parseYaml(readFileSync(projectPath('deploy', 'prometheus', 'prometheus.yml'), 'utf8'));
  const targets = Object.fromEntries(
    cfg.scrape_configs.map((s: { job_name: string; static_configs: Array<{ targets: string[] }> }) => [
      s.job_name,
      s.static_configs[0].targets[0],
    ]),
  );
  t.same(targets, { 'mvm-server': '127.0.0.1:9300', 'mvm-factory': '127.0.0.1:9310', 'mvm-fleet': '127.0.0.1:9320' });
});

// What `mvm fleet energy|rules …` do: one API call each (two for enable/disable), printed for a
// person or, with --json, as the API's JSON.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { MvmError } from '../shared/errors.js';
import { londonDayStart, londonMidnight, londonParts } from '../shared/london-time.js';
import { connectFleet, type FleetFlags } from './fleet-client.js';
import { table } from './table.js';

interface Common extends FleetFlags {
  json: boolean;
}
interface Range extends Common {
  from?: string;
  to?: string;
}
interface Slot {
  validFrom: string;
  validTo: string;
  priceIncVat: number;
  source: string;
}
interface Use {
  kWh: number;
  cost: number;
  estimatedKWh: number;
  efficiencyJth: number | null;
}
interface Period extends Use {
  period: string;
}
interface RuleView {
  id: number;
  name: string;
  enabled: boolean;
  priority: number;
  trigger: Record<string, unknown> & { type: string };
  action: Record<string, unknown> & { type: string };
  conditions: Record<string, unknown>;
  until: boolean;
  cooldownMs: number;
  hysteresis: number;
  miners: Array<{
    miner: string;
    holding: boolean;
    applied: boolean;
    lastChangeAt: string | null;
    note: string | null;
  }>;
}

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
const print = (json: boolean, value: unknown, text: () => string) =>
  out(json ? JSON.stringify(value, null, 2) : text());
const pence = (p: number) => `${p.toFixed(2)} p`;
const hhmm = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** "today", "month" or an ISO time, as the API's query value. */
export function timeArg(v: string | undefined, now = Date.now()): string | undefined {
  if (v === undefined) return undefined;
  if (v === 'today') return new Date(londonDayStart(now)).toISOString();
  if (v === 'month') {
    const p = londonParts(now);
    return new Date(londonMidnight(p.year, p.month, 1)).toISOString();
  }
  if (!Number.isFinite(Date.parse(v)))
    throw new MvmError('USAGE', `not a time: "${v}"`, {
      hint: 'use ISO 8601 (2026-12-04T16:00:00Z), "today" or "month"',
    });
  return v;
}

function query(a: Range): string {
  const q = new URLSearchParams();
  const from = timeArg(a.from);
  const to = timeArg(a.to);
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function energyCurrent(a: Common): Promise<void> {
  const r = await connectFleet(a).call<{
    at: string;
    slot: Slot | null;
    price: number;
    estimated: boolean;
    source: { id: string; stale: boolean; lastError: string | null; knownUntil: string | null };
  }>('GET', '/api/dashboard/energy/current', 'read the current price');
  print(a.json, r, () =>
    [
      r.slot
        ? `${pence(r.price)}/kWh  ${hhmm(r.slot.validFrom)}–${r.slot.validTo.slice(11, 16)} UTC`
        : `${pence(r.price)}/kWh (flat price: no known slot)`,
      `source ${r.source.id}${r.source.stale ? ` — UNREACHABLE (${r.source.lastError}); the last known prices serve` : ''}`,
      `prices known until ${r.source.knownUntil ?? 'never'}`,
    ].join('\n'),
  );
}

export async function energyNext(a: Common): Promise<void> {
  const r = await connectFleet(a).call<{ slot: Slot | null }>(
    'GET',
    '/api/dashboard/energy/next',
    'read the next price',
  );
  print(a.json, r, () =>
    r.slot
      ? `${pence(r.slot.priceIncVat)}/kWh  ${hhmm(r.slot.validFrom)}–${r.slot.validTo.slice(11, 16)} UTC`
      : 'no price known for the next slot',
  );
}

export async function energyTimeline(a: Range): Promise<void> {
  const r = await connectFleet(a).call<{ slots: Slot[] }>(
    'GET',
    `/api/dashboard/energy/timeline${query(a)}`,
    'read the price timeline',
  );
  print(a.json, r, () => {
    if (r.slots.length === 0) return 'no known prices in this range';
    const max = Math.max(...r.slots.map((s) => Math.abs(s.priceIncVat)), 1);
    return table(
      ['SLOT (UTC)', 'P/KWH', ''],
      r.slots.map((s) => [
        hhmm(s.validFrom),
        s.priceIncVat.toFixed(2),
        (s.priceIncVat < 0 ? '-' : '#').repeat(Math.round((Math.abs(s.priceIncVat) / max) * 30)),
      ]),
    );
  });
}

function costTable(rows: Array<[string, Use]>): string {
  return table(
    ['', 'KWH', 'COST', 'J/TH', 'ESTIMATED KWH'],
    rows.map(([k, u]) => [
      k,
      u.kWh.toFixed(3),
      pence(u.cost),
      u.efficiencyJth === null ? '-' : String(u.efficiencyJth),
      u.estimatedKWh ? u.estimatedKWh.toFixed(3) : '',
    ]),
  );
}

export async function energyCost(a: Range & { miner?: string }): Promise<void> {
  const client = connectFleet(a);
  if (a.miner) {
    const r = await client.call<{ total: Use; days: Period[]; months: Period[] }>(
      'GET',
      `/api/dashboard/energy/cost/${encodeURIComponent(a.miner)}${query(a)}`,
      `read the energy cost of ${a.miner}`,
    );
    print(a.json, r, () =>
      costTable([
        ...r.days.map((d) => [d.period, d] as [string, Use]),
        ...r.months.map((m) => [m.period, m] as [string, Use]),
        ['total', r.total],
      ]),
    );
    return;
  }
  const r = await client.call<{ total: Use; days: Period[]; miners: Array<{ minerId: string; total: Use }> }>(
    'GET',
    `/api/dashboard/energy/cost${query(a)}`,
    "read the fleet's energy cost",
  );
  print(a.json, r, () =>
    [
      costTable(r.miners.map((m) => [m.minerId, m.total])),
      '',
      costTable([...r.days.map((d) => [d.period, d] as [string, Use]), ['fleet', r.total]]),
    ].join('\n'),
  );
}

export async function energyRefresh(a: Common): Promise<void> {
  const r = await connectFleet(a).call<{
    ok: boolean;
    slots: number;
    added: number;
    knownUntil: string | null;
    error?: string;
  }>('POST', '/api/dashboard/energy/refresh', 'fetch prices');
  print(a.json, r, () =>
    r.ok
      ? `${r.slots} slots fetched (${r.added} new); prices known until ${r.knownUntil}`
      : `the source failed: ${r.error}; prices known until ${r.knownUntil}`,
  );
  if (!r.ok) process.exitCode = 1;
}

function readRule(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new MvmError('IO', `cannot read ${file}: ${(err as Error).message}`, { cause: err, hint: 'check the path' });
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new MvmError('USAGE', `${file} is neither JSON nor YAML: ${(err as Error).message}`, { cause: err });
  }
}

function describeTrigger(t: Record<string, unknown> & { type: string }): string {
  const params = Object.entries(t)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`);
  return [t.type, ...params].join(' ');
}

function ruleText(r: RuleView): string {
  const lines = [
    `#${r.id} ${r.name}${r.enabled ? '' : ' (disabled)'}  priority ${r.priority}`,
    `  when    ${describeTrigger(r.trigger)}${r.hysteresis ? ` (hysteresis ${r.hysteresis})` : ''}`,
    `  do      ${describeTrigger(r.action)}${r.until ? ', undone when the trigger ends' : ''}${r.cooldownMs ? `, cooldown ${Math.round(r.cooldownMs / 60_000)} min` : ''}`,
    `  on      ${Object.keys(r.conditions).length ? JSON.stringify(r.conditions) : 'every miner'}`,
  ];
  for (const m of r.miners)
    lines.push(
      `  ${m.miner}: ${m.applied ? 'HOLDING' : m.holding ? 'wants it' : 'idle'}${m.lastChangeAt ? ` since ${m.lastChangeAt}` : ''}${m.note ? ` (${m.note})` : ''}`,
    );
  return lines.join('\n');
}

export async function rulesList(a: Common): Promise<void> {
  const r = await connectFleet(a).call<{ rules: RuleView[] }>('GET', '/api/automation/', 'list the rules');
  print(a.json, r, () =>
    r.rules.length === 0
      ? 'no rules (mvm fleet rules add -f rule.json)'
      : table(
          ['ID', 'NAME', 'PRI', 'TRIGGER', 'ACTION', 'HOLDS'],
          r.rules.map((x) => [
            String(x.id),
            x.enabled ? x.name : `${x.name} (off)`,
            String(x.priority),
            describeTrigger(x.trigger),
            describeTrigger(x.action) + (x.until ? ' (until)' : ''),
            x.miners
              .filter((m) => m.applied)
              .map((m) => m.miner)
              .join(',') || '-',
          ]),
        ),
  );
}

export async function rulesShow(a: Common & { id: number }): Promise<void> {
  const r = await connectFleet(a).call<RuleView>('GET', `/api/automation/${a.id}`, `read rule ${a.id}`);
  print(a.json, r, () => ruleText(r));
}

export async function rulesAdd(a: Common & { file: string }): Promise<void> {
  const r = await connectFleet(a).call<RuleView>('POST', '/api/automation/', 'add the rule', readRule(a.file));
  print(a.json, r, () => `added\n${ruleText(r)}`);
}

export async function rulesEdit(a: Common & { id: number; file: string }): Promise<void> {
  const r = await connectFleet(a).call<RuleView>(
    'PUT',
    `/api/automation/${a.id}`,
    `edit rule ${a.id}`,
    readRule(a.file),
  );
  print(a.json, r, () => `saved\n${ruleText(r)}`);
}

async function setEnabled(a: Common & { id: number }, enabled: boolean): Promise<void> {
  const client = connectFleet(a);
  const cur = await client.call<RuleView & Record<string, unknown>>(
    'GET',
    `/api/automation/${a.id}`,
    `read rule ${a.id}`,
  );
  const { id: _id, miners: _m, createdAt: _c, updatedAt: _u, updatedBy: _b, ...body } = cur;
  const r = await client.call<RuleView>(
    'PUT',
    `/api/automation/${a.id}`,
    `${enabled ? 'enable' : 'disable'} rule ${a.id}`,
    { ...body, enabled },
  );
  print(a.json, r, () => ruleText(r));
}

export const rulesEnable = (a: Common & { id: number }) => setEnabled(a, true);
export const rulesDisable = (a: Common & { id: number }) => setEnabled(a, false);

export async function rulesRemove(a: Common & { id: number }): Promise<void> {
  await connectFleet(a).call('DELETE', `/api/automation/${a.id}`, `delete rule ${a.id}`);
  print(a.json, { deleted: a.id }, () => `rule ${a.id} deleted (what it held was undone)`);
}

interface DryRun {
  rule: string;
  at: string;
  now: Array<{ miner: string; would: string; reason: string }>;
  timeline: Array<{ at: string; would: string; action: string | null; value: number | null; reason: string }>;
  note: string | null;
}

export async function rulesDryRun(a: Common & { id?: number; file?: string }): Promise<void> {
  const client = connectFleet(a);
  let r: DryRun;
  if (a.file) r = await client.call<DryRun>('POST', '/api/automation/dry-run', 'dry-run the rule', readRule(a.file));
  else if (a.id !== undefined)
    r = await client.call<DryRun>('POST', `/api/automation/${a.id}/dry-run`, `dry-run rule ${a.id}`);
  else
    throw new MvmError('USAGE', 'name a rule id or give --file', {
      hint: 'mvm fleet rules dry-run 3, or mvm fleet rules dry-run -f rule.json',
    });
  print(a.json, r, () => {
    const lines = [`rule "${r.rule}" at ${r.at}:`];
    for (const n of r.now) lines.push(`  now  ${n.miner}: ${n.would} — ${n.reason}`);
    if (r.now.length === 0) lines.push('  selects no miner');
    for (const s of r.timeline)
      lines.push(`  ${hhmm(s.at)}  ${s.would}${s.action ? ` ${s.action}` : ''} — ${s.reason}`);
    if (r.note) lines.push(`  (${r.note})`);
    return lines.join('\n');
  });
}

export async function rulesTypes(a: Common): Promise<void> {
  const client = connectFleet(a);
  const [triggers, actions] = await Promise.all([
    client.call<{
      types: Array<{ type: string; description: string; params: Array<{ name: string; required: boolean }> }>;
    }>('GET', '/api/automation/triggers/types', 'list the trigger types'),
    client.call<{
      types: Array<{ type: string; description: string; params: Array<{ name: string; required: boolean }> }>;
    }>('GET', '/api/automation/actions/types', 'list the action types'),
  ]);
  const rows = (l: typeof triggers.types) =>
    l.map((x) => [x.type, x.params.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' '), x.description]);
  print(a.json, { triggers: triggers.types, actions: actions.types }, () =>
    [
      'TRIGGERS',
      table(['TYPE', 'PARAMS', ''], rows(triggers.types)),
      '',
      'ACTIONS',
      table(['TYPE', 'PARAMS', ''], rows(actions.types)),
    ].join('\n'),
  );
}

export async function rulesEvaluate(a: Common): Promise<void> {
  const r = await connectFleet(a).call<{
    at: string;
    decisions: Array<{ rule: string; miner: string; kind: string; reason: string }>;
  }>('POST', '/api/automation/evaluate', 'evaluate the rules');
  print(a.json, r, () =>
    r.decisions.length
      ? r.decisions.map((d) => `${d.kind} ${d.rule} on ${d.miner}: ${d.reason}`).join('\n')
      : `nothing to do at ${r.at}`,
  );
}

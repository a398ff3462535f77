// What `mvm fleet …` does: one API call each, printed as a table a person reads or, with --json,
// as the API's own JSON.
import { createInterface } from 'node:readline';
import { connectFleet, type FleetFlags } from './fleet-client.js';
import {
  eventLine,
  formatHashrate,
  hottest,
  minersTable,
  orDash,
  utc,
  type EventRow,
  type MinerRow,
} from './fleet-format.js';
import { table } from './table.js';

interface Common extends FleetFlags {
  json: boolean;
}
interface MinerArgs extends Common {
  miner: string;
}

const seg = encodeURIComponent;
const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
const print = (json: boolean, value: unknown, text: () => string) =>
  out(json ? JSON.stringify(value, null, 2) : text());

interface ActionResult {
  miner: string;
  message: string;
  needsRestart: boolean;
  drift: boolean;
  testbed: string | null;
  readBack: Record<string, { readable: boolean; same: boolean | null; current: string | null }> | null;
}

function actionText(r: ActionResult): string {
  const lines = [r.message];
  if (r.testbed) lines.push(`  done under a reservation of testbed ${r.testbed} (released)`);
  for (const [k, o] of Object.entries(r.readBack ?? {})) {
    lines.push(
      `  read back ${k}: ${!o.readable ? 'not readable on this device' : o.same ? `as wanted (${o.current ?? 'ok'})` : `DIFFERENT: ${o.current ?? '?'}`}`,
    );
  }
  if (r.drift) lines.push('  drift recorded: the device does not have what the fleet wants');
  if (r.needsRestart) lines.push('  the device uses it after a restart (mvm fleet restart MINER)');
  return lines.join('\n');
}

export async function miners(a: Common & { tag?: string; status?: string }): Promise<void> {
  const q = new URLSearchParams();
  if (a.tag) q.set('tag', a.tag);
  if (a.status) q.set('status', a.status);
  const list = await connectFleet(a).call<MinerRow[]>('GET', `/api/miners/${q.size ? `?${q}` : ''}`, 'list the miners');
  print(a.json, list, () => (list.length ? minersTable(list) : 'no miners'));
}

interface MinerDetail extends MinerRow {
  address: string;
  location: string | null;
  hardware: string | null;
  lastSeenAt: string | null;
  lastError: string | null;
  last:
    | (MinerRow['last'] & {
        fans: Array<{ name: string; rpm: number | null; percent: number | null }>;
        uptimeS: number | null;
        firmwareVersion: string | null;
        sharesAccepted: number | null;
        sharesRejected: number | null;
        expectedHashrateGhs: number | null;
      })
    | null;
  desired: { mode: string | null; paused: boolean | null; pools: string[] | null } | null;
}

export async function show(a: MinerArgs): Promise<void> {
  const c = connectFleet(a);
  const m = await c.call<MinerDetail>('GET', `/api/miners/${seg(a.miner)}`, `show miner ${a.miner}`);
  const events = await c.call<EventRow[]>(
    'GET',
    `/api/dashboard/events/recent?miner=${seg(a.miner)}&limit=10`,
    'read its events',
  );
  print(a.json, { miner: m, events }, () => {
    const t = m.last;
    const rows = [
      ['miner', `${m.id} (${m.model ?? m.driver})`],
      ['driver', `${m.driver} at ${m.address}`],
      ['source', m.testbed ? `testbed ${m.testbed} (changed only under a reservation)` : m.source],
      [
        'status',
        `${m.status}${m.lastSeenAt ? `, last seen ${utc(m.lastSeenAt)}` : ''}${m.lastError ? ` (${m.lastError})` : ''}`,
      ],
      [
        'hashrate',
        `${formatHashrate(t?.hashrateGhs)}${t?.expectedHashrateGhs ? ` of ${formatHashrate(t.expectedHashrateGhs)} expected` : ''}`,
      ],
      ['power', `${orDash(t?.powerW, 'W')}, ${orDash(t?.efficiencyJth, 'J/TH')}`],
      [
        'temperatures',
        Object.entries(t?.temperatures ?? {})
          .map(([k, v]) => `${k} ${v} °C`)
          .join(', ') || '-',
      ],
      [
        'fans',
        (t?.fans ?? [])
          .map((f) => `${f.name} ${f.rpm ?? '?'} rpm${f.percent !== null ? ` ${f.percent} %` : ''}`)
          .join(', ') || '-',
      ],
      ['shares', t ? `${t.sharesAccepted ?? '-'} accepted, ${t.sharesRejected ?? '-'} rejected` : '-'],
      ['firmware', t?.firmwareVersion ?? '-'],
      [
        'wanted',
        m.desired
          ? `mode ${m.desired.mode ?? '-'}, ${m.desired.paused ? 'paused' : 'hashing'}, pools ${m.desired.pools?.join(', ') ?? '-'}`
          : '-',
      ],
      ['tags', m.tags.join(', ') || '-'],
    ];
    return [
      table([], rows),
      '',
      'recent events:',
      ...(events.length ? events.slice().reverse().map(eventLine) : ['  none']),
    ].join('\n');
  });
}

interface HistoryResult {
  resolution: string;
  stepMs: number;
  points: Array<{
    t: number;
    n: number;
    hashrateGhs: { mean: number; min: number; max: number } | null;
    powerW: { mean: number } | null;
    efficiencyJth: { mean: number } | null;
    temperatures: Record<string, { max: number }>;
  }>;
}

export async function history(a: MinerArgs & { from: string; to?: string; step?: string }): Promise<void> {
  const q = new URLSearchParams({ from: a.from });
  if (a.to) q.set('to', a.to);
  if (a.step) q.set('step', a.step);
  const h = await connectFleet(a).call<HistoryResult>(
    'GET',
    `/api/miners/${seg(a.miner)}/history?${q}`,
    `read the history of ${a.miner}`,
  );
  print(a.json, h, () => {
    const rows: string[][] = [];
    for (const p of h.points) {
      rows.push([
        utc(p.t),
        String(p.n),
        formatHashrate(p.hashrateGhs?.mean),
        formatHashrate(p.hashrateGhs?.min),
        formatHashrate(p.hashrateGhs?.max),
        orDash(p.powerW?.mean, 'W'),
        orDash(p.efficiencyJth?.mean, ''),
        orDash(hottest(Object.fromEntries(Object.entries(p.temperatures).map(([k, v]) => [k, v.max]))), '°C', 0),
      ]);
    }
    return `${a.miner}: ${h.points.length} point(s) at ${h.resolution} resolution, step ${h.stepMs / 1000} s\n${table(['TIME (UTC)', 'N', 'HASHRATE (mean)', 'MIN', 'MAX', 'POWER', 'J/TH', 'TEMP MAX'], rows)}`;
  });
}

export async function mode(a: MinerArgs & { mode?: string }): Promise<void> {
  const c = connectFleet(a);
  if (a.mode === undefined) {
    const m = await c.call<{ modes: string[]; aliases: Record<string, string>; desired: string | null }>(
      'GET',
      `/api/miners/${seg(a.miner)}/modes`,
      `list the modes of ${a.miner}`,
    );
    const aliases = Object.entries(m.aliases)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    print(
      a.json,
      m,
      () =>
        `${a.miner}: ${m.modes.join(', ') || 'no modes'}${aliases ? ` (also ${aliases})` : ''}; wanted: ${m.desired ?? '-'}`,
    );
    return;
  }
  const r = await c.call<ActionResult>('POST', `/api/miners/${seg(a.miner)}/mode`, `set the mode of ${a.miner}`, {
    mode: a.mode,
  });
  print(a.json, r, () => actionText(r));
}

export async function restart(a: MinerArgs & { timeout?: string }): Promise<void> {
  const r = await connectFleet(a).call<ActionResult>(
    'POST',
    `/api/miners/${seg(a.miner)}/restart`,
    `restart ${a.miner}`,
    a.timeout ? { timeout: a.timeout } : {},
  );
  print(a.json, r, () => actionText(r));
}

export async function pause(a: MinerArgs): Promise<void> {
  const r = await connectFleet(a).call<ActionResult>('POST', `/api/miners/${seg(a.miner)}/pause`, `pause ${a.miner}`);
  print(a.json, r, () => actionText(r));
}

export async function resume(a: MinerArgs): Promise<void> {
  const r = await connectFleet(a).call<ActionResult>('POST', `/api/miners/${seg(a.miner)}/resume`, `resume ${a.miner}`);
  print(a.json, r, () => actionText(r));
}

interface PoolRow {
  id: string;
  name: string;
  url: string;
  port: number;
  user: string;
  tls: boolean;
  passwordSet: boolean;
}

const poolRows = (pools: PoolRow[]) =>
  table(
    ['ID', 'NAME', 'URL', 'USER', 'TLS', 'PASSWORD'],
    pools.map((p) => [p.id, p.name, `${p.url}:${p.port}`, p.user, p.tls ? 'yes' : 'no', p.passwordSet ? 'set' : '-']),
  );

export async function poolsList(a: Common): Promise<void> {
  const pools = await connectFleet(a).call<PoolRow[]>('GET', '/api/pools/', 'list the pools');
  print(a.json, pools, () =>
    pools.length ? poolRows(pools) : 'no pools (mvm fleet pools add NAME --pool-url … --port … --user …)',
  );
}

export async function poolsAdd(
  a: Common & {
    name: string;
    id?: string;
    'pool-url': string;
    port: number;
    user: string;
    password?: string;
    tls: boolean;
  },
): Promise<void> {
  const p = await connectFleet(a).call<PoolRow>('POST', '/api/pools/', `add pool ${a.name}`, {
    ...(a.id ? { id: a.id } : {}),
    name: a.name,
    url: a['pool-url'],
    port: a.port,
    user: a.user,
    ...(a.password !== undefined ? { password: a.password } : {}),
    tls: a.tls,
  });
  print(a.json, p, () => `pool ${p.id} added`);
}

export async function poolsRemove(a: Common & { id: string }): Promise<void> {
  const r = await connectFleet(a).call<unknown>('DELETE', `/api/pools/${seg(a.id)}`, `remove pool ${a.id}`);
  print(a.json, r, () => `pool ${a.id} removed`);
}

export async function poolsShow(a: MinerArgs): Promise<void> {
  const r = await connectFleet(a).call<{ pools: PoolRow[] | null; from: string | null; desired: string[] | null }>(
    'GET',
    `/api/miners/${seg(a.miner)}/pools`,
    `show the pools of ${a.miner}`,
  );
  print(a.json, r, () =>
    r.pools ? `${a.miner}: pools from ${r.from}\n${poolRows(r.pools)}` : `${a.miner}: no pools assigned`,
  );
}

export async function poolsAssign(a: MinerArgs & { pools: string[]; apply: boolean }): Promise<void> {
  const r = await connectFleet(a).call<ActionResult>(
    'PUT',
    `/api/miners/${seg(a.miner)}/pools`,
    `assign pools to ${a.miner}`,
    { pools: a.pools, apply: a.apply },
  );
  print(a.json, r, () => actionText(r));
}

export async function poolsApply(a: MinerArgs): Promise<void> {
  const r = await connectFleet(a).call<ActionResult>(
    'POST',
    `/api/miners/${seg(a.miner)}/pools/apply`,
    `apply the pools of ${a.miner}`,
  );
  print(a.json, r, () => actionText(r));
}

export async function poolsSwitch(a: MinerArgs & { index: number }): Promise<void> {
  const r = await connectFleet(a).call<ActionResult>(
    'POST',
    `/api/miners/${seg(a.miner)}/pools/switch`,
    `switch the pool of ${a.miner}`,
    { index: a.index },
  );
  print(a.json, r, () => actionText(r));
}

export async function events(a: Common & { miner?: string; limit: number; follow: boolean }): Promise<void> {
  const c = connectFleet(a);
  const q = new URLSearchParams({ limit: String(a.limit) });
  if (a.miner) q.set('miner', a.miner);
  const list = await c.call<EventRow[]>('GET', `/api/dashboard/events/recent?${q}`, 'read the events');
  const chronological = list.slice().reverse();
  if (a.json) for (const e of chronological) out(JSON.stringify(e));
  else out(chronological.length ? chronological.map(eventLine).join('\n') : 'no events');
  if (!a.follow) return;
  const stream = await c.stream(`/api/events/stream${a.miner ? `?miner=${seg(a.miner)}` : ''}`, 'follow the events');
  let kind = '';
  for await (const line of createInterface({ input: stream.body })) {
    if (line.startsWith('event: ')) kind = line.slice(7);
    else if (line.startsWith('data: ') && kind === 'event') {
      const e = JSON.parse(line.slice(6)) as EventRow;
      out(a.json ? JSON.stringify(e) : eventLine(e));
    }
  }
}

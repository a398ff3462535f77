// What `mvm status` does: asks every configured service at once — the job server (reachable, the
// queue), each lab of the profile (its last pass, testbeds by state, reservations, what is unwell)
// and the fleet (miners online, hashrate, power) — and prints one screen, or one JSON object.
import type { Job, JobListEntry } from '../shared/api/types.js';
import { AdminClient } from '../shared/buildomat/admin.js';
import { UserClient } from '../shared/buildomat/user.js';
import { paintFor, type Painter } from '../shared/color.js';
import { explained, httpClient } from './connect.js';
import { FleetClient, resolveFleet } from './fleet-client.js';
import { formatHashrate } from './fleet-format.js';
import { outcome } from './format.js';
import { resolveLabs, type NamedLab } from './labs.js';
import { ago, probe, probeJson, type ClientArgs, type Probe } from './probe.js';
import { profileName, profilePath, resolveConnection } from './profile.js';
import { table } from './table.js';
import { EXIT } from './exit-codes.js';

const ACTIVE = ['queued', 'waiting', 'running'] as const;

interface Queue {
  url: string;
  scope: 'all users' | 'yours';
  user: string | null;
  counts: Record<(typeof ACTIVE)[number], number>;
}

interface LabView {
  url: string;
  lastPassAt: number | null;
  testbeds: Array<{ name: string; state: string; health: string; health_reason: string | null }>;
  reservations: Array<{ testbed: string; owner: string; reason: string | null; expires_at: string | null }>;
}

interface FleetView {
  url: string;
  miners: number;
  online: number;
  offline: number;
  hashrateGhs: number;
  powerW: number;
}

function countActive(states: string[]): Queue['counts'] {
  const counts = { queued: 0, waiting: 0, running: 0 };
  for (const s of states) if ((ACTIVE as readonly string[]).includes(s)) counts[s as keyof typeof counts]++;
  return counts;
}

/** The queue: every user's active jobs with the admin token, else the user's own. */
async function jobServer(a: ClientArgs): Promise<Probe<Queue>> {
  const asAdmin = await probe(
    () => resolveConnection('admin', { url: a.url }),
    async (conn): Promise<Queue> => {
      const jobs = await explained(conn, { doing: 'list the active jobs' }, () =>
        new AdminClient(httpClient(conn)).http.get<Job[]>('/0/admin/jobs', { query: { active: true } }),
      );
      return { url: conn.url, scope: 'all users', user: null, counts: countActive(jobs.map((j) => outcome(j))) };
    },
  );
  if (asAdmin.state === 'ok') return asAdmin;
  const asUser = await probe(
    () => resolveConnection('user', a),
    async (conn): Promise<Queue> => {
      const client = new UserClient(httpClient(conn));
      const who = await explained(conn, { doing: 'ask who the user token is' }, () => client.whoami());
      const jobs: JobListEntry[] = await explained(conn, { doing: 'list your jobs' }, () =>
        client.listJobs({ max: 200, recentFirst: true }),
      );
      return { url: conn.url, scope: 'yours', user: who.name, counts: countActive(jobs.map((j) => outcome(j))) };
    },
  );
  // An admin token that failed says more than a user token nobody gave.
  return asUser.state === 'unset' && asAdmin.state === 'failed' ? asAdmin : asUser;
}

/** "mvm_factory_last_pass_timestamp_seconds 1733358000.1" → ms. */
function lastPassOf(metrics: string): number | null {
  const m = /^mvm_factory_last_pass_timestamp_seconds\s+([0-9.e+]+)\s*$/m.exec(metrics);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : null;
}

async function labView(l: NamedLab): Promise<LabView> {
  const [testbeds, reservations, metrics] = await Promise.all([
    l.client.call<LabView['testbeds']>('GET', '/v1/testbeds', 'list testbeds'),
    l.client.call<LabView['reservations']>('GET', '/v1/reservations', 'list reservations'),
    l.client.text('/metrics', 'read the metrics').catch(() => ''),
  ]);
  return { url: l.client.conn.url, lastPassAt: lastPassOf(metrics), testbeds, reservations };
}

async function fleetView(): Promise<Probe<FleetView>> {
  return probe(
    () => new FleetClient(resolveFleet({})),
    async (c): Promise<FleetView> => {
      const miners = await c.call<
        Array<{ status: string; last: { hashrateGhs: number | null; powerW: number | null } | null }>
      >('GET', '/api/miners/', 'list the miners');
      const online = miners.filter((m) => m.status === 'online');
      return {
        url: c.conn.url,
        miners: miners.length,
        online: online.length,
        offline: miners.filter((m) => m.status === 'offline').length,
        hashrateGhs: online.reduce((n, m) => n + (m.last?.hashrateGhs ?? 0), 0),
        powerW: online.reduce((n, m) => n + (m.last?.powerW ?? 0), 0),
      };
    },
  );
}

function byState(testbeds: LabView['testbeds']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of testbeds) out[t.state] = (out[t.state] ?? 0) + 1;
  return out;
}

const STATE_STYLE: Record<string, keyof Painter> = {
  free: 'green',
  busy: 'yellow',
  reserved: 'yellow',
  unhealthy: 'red',
  quarantined: 'red',
};

function labLines(name: string, p: Probe<LabView>, paint: Painter, now: number): string[][] {
  if (p.state === 'unset') return [[`lab ${name}`, paint.dim('not configured')]];
  if (p.state === 'failed') return [[`lab ${name}`, paint.red(`unreachable: ${p.error}`)]];
  const v = p.value;
  const states = Object.entries(byState(v.testbeds))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${n} ${STATE_STYLE[s] ? paint[STATE_STYLE[s]](s) : s}`)
    .join(', ');
  const rows = [
    [
      `lab ${name}`,
      `${v.url}  last pass ${v.lastPassAt ? ago(v.lastPassAt, now) : 'unknown'}; ${v.testbeds.length} testbed${v.testbeds.length === 1 ? '' : 's'}${states ? `: ${states}` : ''}`,
    ],
  ];
  for (const r of v.reservations)
    rows.push([
      '',
      `reserved ${r.testbed} by ${r.owner}${r.expires_at ? ` until ${r.expires_at.slice(11, 16)} UTC` : ''}${r.reason ? ` ("${r.reason}")` : ''}`,
    ]);
  for (const t of v.testbeds.filter((x) => ['bad', 'checking'].includes(x.health)))
    rows.push(['', paint.red(`${t.name}: health ${t.health}${t.health_reason ? ` (${t.health_reason})` : ''}`)]);
  return rows;
}

export async function status(a: ClientArgs): Promise<void> {
  const now = Date.now();
  const labsProbe = await probe(
    () => resolveLabs(a),
    async (labs) => labs,
  );
  const [queue, labs, fleet] = await Promise.all([
    jobServer(a),
    labsProbe.state === 'ok'
      ? Promise.all(
          labsProbe.value.map(async (l) => ({
            name: l.name,
            probe: await probe(
              () => l,
              (x) => labView(x),
            ),
          })),
        )
      : Promise.resolve([]),
    fleetView(),
  ]);
  const failed = [queue, fleet, ...labs.map((l) => l.probe)].some((p) => p.state === 'failed');
  // A service that does not answer is the infrastructure's failure, as for every other command.
  if (failed) process.exitCode = EXIT.infrastructure;

  if (a.json) {
    const value = {
      profile: { name: profileName() ?? 'default', file: profilePath().file },
      job_server: probeJson(queue, (q) => ({ url: q.url, queue: { scope: q.scope, user: q.user, ...q.counts } })),
      labs: labs.map((l) => ({
        lab: l.name,
        ...probeJson(l.probe, (v) => ({
          url: v.url,
          last_pass_at: v.lastPassAt === null ? null : new Date(v.lastPassAt).toISOString(),
          testbeds: { total: v.testbeds.length, ...byState(v.testbeds) },
          reservations: v.reservations,
          unwell: v.testbeds.filter((t) => ['bad', 'checking'].includes(t.health)),
        })),
      })),
      fleet: probeJson(fleet, (f) => ({
        url: f.url,
        miners: f.miners,
        online: f.online,
        offline: f.offline,
        hashrate_ghs: f.hashrateGhs,
        power_w: f.powerW,
      })),
    };
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }

  const paint = paintFor(process.stdout);
  const rows: string[][] = [];
  if (queue.state === 'ok') {
    const q = queue.value;
    rows.push(['job server', `${q.url}  ${paint.green('reachable')}${q.user ? ` (as ${q.user})` : ''}`]);
    rows.push([
      'queue',
      `${q.counts.queued} queued, ${q.counts.waiting} waiting, ${q.counts.running} running (${q.scope === 'yours' ? 'your jobs' : 'all users'})`,
    ]);
  } else if (queue.state === 'failed') rows.push(['job server', paint.red(`unreachable: ${queue.error}`)]);
  else rows.push(['job server', paint.dim('not configured')]);
  if (labsProbe.state === 'unset') rows.push(['lab', paint.dim('not configured')]);
  else if (labsProbe.state === 'failed') rows.push(['lab', paint.red(labsProbe.error)]);
  for (const l of labs) rows.push(...labLines(l.name, l.probe, paint, now));
  if (fleet.state === 'ok') {
    const f = fleet.value;
    rows.push([
      'fleet',
      `${f.url}  ${f.online}/${f.miners} miners online${f.offline ? `, ${paint.red(`${f.offline} offline`)}` : ''}; ${formatHashrate(f.hashrateGhs)}, ${Math.round(f.powerW)} W`,
    ]);
  } else if (fleet.state === 'failed') rows.push(['fleet', paint.red(`unreachable: ${fleet.error}`)]);
  else rows.push(['fleet', paint.dim('not configured')]);
  process.stdout.write(table([], rows) + '\n');
}

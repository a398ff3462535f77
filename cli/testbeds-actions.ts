// What `mvm testbeds …` does: one API call each, printed as a table a person reads or, with
// --json, as the API's own JSON.
import { MvmError } from '../shared/errors.js';
import { connectUser, explained } from './connect.js';
import { connectLab, type LabFlags } from './lab.js';
import type { ConnectionFlags } from './profile.js';

interface Common extends LabFlags {
  json: boolean;
}
interface Filters extends Common {
  hardware?: string;
  software?: string;
  attribute?: string[];
  driver?: string;
  target?: string;
  state?: string;
  health?: string;
  free?: boolean;
}

interface Blocker {
  kind: string;
  message: string;
}
interface Testbed {
  name: string;
  description: string | null;
  state: string;
  free: boolean;
  health: string;
  health_reason: string | null;
  targets: string[];
  blockers: Blocker[];
  lock: { kind: string; owner: string; reason: string | null; expires_at: string | null } | null;
  instance: { id: string; job: string | null; state: string } | null;
  devices: Array<{ name: string; driver: string; hardware: string | null; software: string | null; address: string | null; attributes: string[] }>;
  agent: { mode: string; host?: string };
  last_check_at: string | null;
  next_check_at: string | null;
}

const seg = encodeURIComponent;
const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
const print = (json: boolean, value: unknown, text: () => string) => out(json ? JSON.stringify(value, null, 2) : text());

function query(f: Filters): string {
  const q = new URLSearchParams();
  for (const k of ['hardware', 'software', 'driver', 'target', 'state', 'health'] as const) if (f[k] !== undefined) q.append(k, f[k]!);
  for (const a of f.attribute ?? []) q.append('attribute', a);
  if (f.free !== undefined) q.append('free', String(f.free));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ')).join('\n');
}

const blockedBy = (t: Testbed) => (t.free ? '-' : t.blockers.map((b) => b.message).join('; '));

export async function listTestbeds(a: Filters): Promise<void> {
  const list = await connectLab(a).call<Testbed[]>('GET', `/v1/testbeds${query(a)}`, 'list testbeds');
  print(a.json, list, () =>
    list.length === 0 ? 'no testbed matches' : table([['TESTBED', 'STATE', 'HEALTH', 'DEVICES', 'WHY'], ...list.map((t) => [t.name, t.state, t.health, t.devices.map((d) => `${d.name}:${d.hardware ?? d.driver}`).join(',') || '-', blockedBy(t)])]),
  );
}

export async function listDevices(a: Filters): Promise<void> {
  const list = await connectLab(a).call<Array<Testbed['devices'][number] & { testbed: string }>>('GET', `/v1/devices${query(a)}`, 'list devices');
  print(a.json, list, () =>
    list.length === 0
      ? 'no device matches'
      : table([['TESTBED', 'DEVICE', 'DRIVER', 'HARDWARE', 'SOFTWARE', 'ADDRESS', 'ATTRIBUTES'], ...list.map((d) => [d.testbed, d.name, d.driver, d.hardware ?? '-', d.software ?? '-', d.address ?? '-', d.attributes.join(',') || '-'])]),
  );
}

export async function showTestbed(a: Common & { name: string; history: number }): Promise<void> {
  const c = connectLab(a);
  const t = await c.call<Testbed>('GET', `/v1/testbeds/${seg(a.name)}`, `show testbed ${a.name}`);
  const h = await c.call<{ events: Array<{ at: string; kind: string; message: string }> }>('GET', `/v1/testbeds/${seg(a.name)}/history?limit=${a.history}`, `read the history of ${a.name}`);
  print(a.json, { ...t, history: h.events }, () =>
    [
      `${t.name}${t.description ? ` — ${t.description}` : ''}`,
      `  state:   ${t.state}${t.free ? '' : ` (${blockedBy(t)})`}`,
      `  health:  ${t.health}${t.health_reason ? ` (${t.health_reason})` : ''}${t.last_check_at ? `; last check ${t.last_check_at}` : ''}${t.next_check_at ? `; next ${t.next_check_at}` : ''}`,
      `  targets: ${t.targets.join(', ') || '-'}`,
      `  agent:   ${t.agent.mode}${t.agent.host ? ` on ${t.agent.host}` : ''}`,
      ...(t.instance ? [`  running: instance ${t.instance.id} (${t.instance.state})${t.instance.job ? `, job ${t.instance.job}` : ''}`] : []),
      '  devices:',
      ...t.devices.map((d) => `    ${d.name}  ${d.driver}  ${d.hardware ?? '-'}  ${d.software ?? '-'}  ${d.address ?? '-'}${d.attributes.length ? `  [${d.attributes.join(', ')}]` : ''}`),
      '  history (newest first):',
      ...h.events.map((e) => `    ${e.at}  ${e.kind}: ${e.message}`),
    ].join('\n'),
  );
}

interface Reservation {
  testbed: string;
  owner: string;
  reason: string | null;
  expires_at: string | null;
  restore_on_release?: boolean;
  credential?: string;
}

/** How the holder uses the reserved devices with `mvm runner` (runner/lock.ts). */
const credentialLine = (r: Reservation) => (r.credential ? `\n  to use its devices with mvm runner: export MVM_LOCK_CREDENTIAL=${r.credential}` : '');

export async function reserve(a: Common & { name: string; ttl?: string; reason?: string; for?: string; restore?: boolean }): Promise<void> {
  const body = { ...(a.ttl ? { ttl: a.ttl } : {}), ...(a.reason ? { reason: a.reason } : {}), ...(a.for ? { owner: a.for } : {}), ...(a.restore === false ? { restore_on_release: false } : {}) };
  const r = await connectLab(a).call<Reservation>('POST', `/v1/testbeds/${seg(a.name)}/reservation`, `reserve ${a.name}`, body);
  const noRestore = r.restore_on_release === false ? ' (its baseline is NOT restored when it ends)' : '';
  print(a.json, r, () => `reserved ${r.testbed} for ${r.owner} until ${r.expires_at}${noRestore}${credentialLine(r)}\n  release it with: mvm testbeds release ${r.testbed}`);
}

export async function renew(a: Common & { name: string; ttl?: string; reason?: string }): Promise<void> {
  const r = await connectLab(a).call<Reservation>('PUT', `/v1/testbeds/${seg(a.name)}/reservation`, `renew the reservation of ${a.name}`, { ...(a.ttl ? { ttl: a.ttl } : {}), ...(a.reason ? { reason: a.reason } : {}) });
  print(a.json, r, () => `${r.testbed} stays reserved for ${r.owner} until ${r.expires_at}${credentialLine(r)}`);
}

export async function release(a: Common & { name: string; force: boolean }): Promise<void> {
  const r = await connectLab(a).call<Reservation>('DELETE', `/v1/testbeds/${seg(a.name)}/reservation${a.force ? '?force=true' : ''}`, `release ${a.name}`);
  print(a.json, r, () => `released ${r.testbed} (it was reserved by ${r.owner})`);
}

function testbedAction(path: string, method: 'POST' | 'DELETE', doing: string, said: (t: Testbed) => string) {
  return async (a: Common & { name: string; reason?: string }): Promise<void> => {
    const t = await connectLab(a).call<Testbed>(method, `/v1/testbeds/${seg(a.name)}${path}`, `${doing} ${a.name}`, method === 'POST' ? (a.reason ? { reason: a.reason } : {}) : undefined);
    print(a.json, t, () => said(t));
  };
}

export const decommission = testbedAction('/decommission', 'POST', 'decommission', (t) => `${t.name} is decommissioned: it takes no jobs`);
export const recommission = testbedAction('/recommission', 'POST', 'recommission', (t) => `${t.name} is back (health ${t.health}); it takes jobs once a health check passes`);
export const check = testbedAction('/check', 'POST', 'check', (t) => `a health check of ${t.name} is due now (health ${t.health}); see mvm testbeds show ${t.name}`);

export async function maintenance(a: Common & { name: string; onoff: 'on' | 'off'; reason?: string }): Promise<void> {
  const on = a.onoff === 'on';
  await testbedAction('/maintenance', on ? 'POST' : 'DELETE', on ? 'start maintenance of' : 'end maintenance of', (t) =>
    on ? `${t.name} is in maintenance: no jobs, no checks` : `${t.name} is out of maintenance; it takes jobs once a health check passes (health ${t.health})`,
  )(a);
}

export async function userAction(a: Common & { action: 'create' | 'remove' | 'list'; username?: string; admin: boolean }): Promise<void> {
  const lab = connectLab(a);
  if (a.action === 'list') {
    const users = await lab.call<Array<{ name: string; admin: boolean; created_at: string }>>('GET', '/v1/users', 'list users');
    print(a.json, users, () => (users.length === 0 ? 'no users' : users.map((u) => `${u.name}${u.admin ? ' (admin)' : ''}  created ${u.created_at}`).join('\n')));
    return;
  }
  if (!a.username) throw new MvmError('USAGE', `mvm testbeds user ${a.action} needs a user name`, { hint: `mvm testbeds user ${a.action} NAME` });
  if (a.action === 'remove') {
    const u = await lab.call<{ name: string }>('DELETE', `/v1/users/${encodeURIComponent(a.username)}`, `remove user ${a.username}`);
    print(a.json, u, () => `removed user ${u.name}; its token no longer works`);
    return;
  }
  const u = await lab.call<{ name: string; admin: boolean; token: string }>('POST', '/v1/users', `create user ${a.username}`, { name: a.username, admin: a.admin });
  print(a.json, u, () => `created ${u.admin ? 'admin ' : ''}user ${u.name}; its token (shown only now):\n${u.token}`);
}

interface Explanation {
  target: string;
  served: boolean;
  summary: string;
  testbeds: Array<{ name: string; serves: boolean; free: boolean; reasons: Blocker[] }>;
}

export async function why(a: Common & ConnectionFlags & { job: string }): Promise<void> {
  const { conn, client } = connectUser(a);
  const job = await explained(conn, { job: a.job, doing: 'read the job' }, () => client.getJob(a.job));
  const target = job.target_real || job.target;
  if (job.state !== 'queued') {
    const what = { running: 'it is running', completed: 'it has completed', failed: job.cancelled ? 'it was cancelled' : 'it has failed' }[job.state] ?? `it is ${job.state}`;
    print(a.json, { job: job.id, state: job.state, target, waiting: false }, () => `job ${job.id} is not waiting: ${what}`);
    return;
  }
  const e = await connectLab(a).call<Explanation>('POST', '/v1/explain', `explain target ${target}`, { target });
  const since = job.times?.submit ? ` since ${job.times.submit}` : '';
  print(a.json, { job: job.id, state: job.state, waiting: true, ...e }, () => {
    const serving = e.testbeds.filter((t) => t.serves);
    const lines = [`job ${job.id} is queued${since} for target ${target}: ${e.summary}`];
    for (const t of serving) lines.push(`  ${t.name}: ${t.free ? 'free' : t.reasons.map((r) => `${r.kind}: ${r.message}`).join('; ')}`);
    if (serving.length === 0) {
      lines.push(`  this factory's testbeds serve other targets:`);
      for (const t of e.testbeds) lines.push(`  ${t.name}: ${t.reasons[0]?.message ?? ''}`);
      lines.push('  (another factory may serve it; check the target name, or add a testbed for it)');
    }
    return lines.join('\n');
  });
  if (!e.served && !a.json) throw new MvmError('NOT_FOUND', `no testbed of the factory at ${connectLab(a).conn.url} serves target ${target}`, { hint: 'the job waits for a factory that serves it' });
}

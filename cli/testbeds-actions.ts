// What `mvm testbeds …` does: one API call each (per lab, when the profile names several), printed
// as a table a person reads or, with --json, as the API's own JSON (with a `lab` field per item
// when there are several labs).
import { didYouMean } from '../shared/did-you-mean.js';
import { MvmError } from '../shared/errors.js';
import type { LabFlags } from './factory-api.js';
import { table } from './table.js';
import { acrossLabs, connectLab, DEFAULT_LAB, displayNames, findTestbed, resolveLabs, type NamedLab } from './labs.js';

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
  devices: Array<{
    name: string;
    driver: string;
    hardware: string | null;
    software: string | null;
    address: string | null;
    attributes: string[];
  }>;
  agent: { mode: string; host?: string };
  last_check_at: string | null;
  next_check_at: string | null;
}

const seg = encodeURIComponent;
const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
const print = (json: boolean, value: unknown, text: () => string) =>
  out(json ? JSON.stringify(value, null, 2) : text());

function query(f: Filters): string {
  const q = new URLSearchParams();
  for (const k of ['hardware', 'software', 'driver', 'target', 'state', 'health'] as const)
    if (f[k] !== undefined) q.append(k, f[k]!);
  for (const a of f.attribute ?? []) q.append('attribute', a);
  if (f.free !== undefined) q.append('free', String(f.free));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const blockedBy = (t: Testbed) => (t.free ? '-' : t.blockers.map((b) => b.message).join('; '));

const warn = (message: string) => process.stderr.write(`mvm: warning: ${message}\n`);

/** GET `path` from every lab: each item with its lab's name and how to name it (NAME or NAME@LAB). */
async function listAcross<T>(a: Common, path: string, doing: string, nameOf: (item: T) => string) {
  const labs = resolveLabs(a);
  const got = await acrossLabs(labs, (l) => l.client.call<T[]>('GET', path, doing), warn);
  const items = displayNames(
    got.flatMap(({ lab, value }) => value.map((item) => ({ item, lab: lab.name, name: nameOf(item) }))),
  );
  // The printed JSON: the API's own items, with their lab when there are several.
  const json = items.map((x) => (labs.length > 1 ? { ...x.item, lab: x.lab } : x.item));
  return { many: labs.length > 1, items, json };
}

export async function listTestbeds(a: Filters): Promise<void> {
  const { many, items, json } = await listAcross<Testbed>(a, `/v1/testbeds${query(a)}`, 'list testbeds', (t) => t.name);
  const head = ['TESTBED', ...(many ? ['LAB'] : []), 'STATE', 'HEALTH', 'DEVICES', 'WHY'];
  print(a.json, json, () =>
    items.length === 0
      ? 'no testbed matches'
      : table(
          head,
          items.map(({ item: t, lab, ref }) => [
            ref,
            ...(many ? [lab] : []),
            t.state,
            t.health,
            t.devices.map((d) => `${d.name}:${d.hardware ?? d.driver}`).join(',') || '-',
            blockedBy(t),
          ]),
        ),
  );
  if (items.length === 0 && a.target !== undefined) await unknownTarget(a, a.target);
}

/** A --target no testbed serves: the closest one the labs know, on stderr (the list stays empty). */
async function unknownTarget(a: Common, target: string): Promise<void> {
  const { items } = await listAcross<Testbed>({ ...a, json: true }, '/v1/testbeds', 'list testbeds', (t) => t.name);
  const known = [...new Set(items.flatMap(({ item }) => item.targets))].sort();
  if (known.includes(target)) return;
  const guess = didYouMean(target, known);
  warn(
    `no testbed serves target "${target}"${guess ? `; did you mean "${guess}"?` : ''}${known.length ? ` (the targets are: ${known.join(', ')})` : ''}`,
  );
}

export async function listDevices(a: Filters): Promise<void> {
  const { many, items, json } = await listAcross<Testbed['devices'][number] & { testbed: string }>(
    a,
    `/v1/devices${query(a)}`,
    'list devices',
    (d) => d.testbed,
  );
  const head = [
    'TESTBED',
    ...(many ? ['LAB'] : []),
    'DEVICE',
    'DRIVER',
    'HARDWARE',
    'SOFTWARE',
    'ADDRESS',
    'ATTRIBUTES',
  ];
  print(a.json, json, () =>
    items.length === 0
      ? 'no device matches'
      : table(
          head,
          items.map(({ item: d, lab, ref }) => [
            ref,
            ...(many ? [lab] : []),
            d.name,
            d.driver,
            d.hardware ?? '-',
            d.software ?? '-',
            d.address ?? '-',
            d.attributes.join(',') || '-',
          ]),
        ),
  );
}

/** The lab holding the testbed `a.name` (NAME or NAME@LAB) and its bare name. */
async function testbedIn(a: Common & { name: string }): Promise<{ lab: NamedLab; name: string; ref: string }> {
  return findTestbed(resolveLabs(a), a.name);
}

export async function showTestbed(a: Common & { name: string; history: number }): Promise<void> {
  const { lab, name, ref } = await testbedIn(a);
  const t = await lab.client.call<Testbed>('GET', `/v1/testbeds/${seg(name)}`, `show testbed ${ref}`);
  const h = await lab.client.call<{ events: Array<{ at: string; kind: string; message: string }> }>(
    'GET',
    `/v1/testbeds/${seg(name)}/history?limit=${a.history}`,
    `read the history of ${ref}`,
  );
  print(a.json, { ...t, history: h.events }, () =>
    [
      `${ref}${t.description ? ` — ${t.description}` : ''}`,
      ...(lab.name !== DEFAULT_LAB || ref !== name ? [`  lab:     ${lab.name} (${lab.client.conn.url})`] : []),
      `  state:   ${t.state}${t.free ? '' : ` (${blockedBy(t)})`}`,
      `  health:  ${t.health}${t.health_reason ? ` (${t.health_reason})` : ''}${t.last_check_at ? `; last check ${t.last_check_at}` : ''}${t.next_check_at ? `; next ${t.next_check_at}` : ''}`,
      `  targets: ${t.targets.join(', ') || '-'}`,
      `  agent:   ${t.agent.mode}${t.agent.host ? ` on ${t.agent.host}` : ''}`,
      ...(t.instance
        ? [
            `  running: instance ${t.instance.id} (${t.instance.state})${t.instance.job ? `, job ${t.instance.job}` : ''}`,
          ]
        : []),
      '  devices:',
      ...t.devices.map(
        (d) =>
          `    ${d.name}  ${d.driver}  ${d.hardware ?? '-'}  ${d.software ?? '-'}  ${d.address ?? '-'}${d.attributes.length ? `  [${d.attributes.join(', ')}]` : ''}`,
      ),
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
const credentialLine = (r: Reservation) =>
  r.credential ? `\n  to use its devices with mvm runner: export MVM_LOCK_CREDENTIAL=${r.credential}` : '';

export async function reserve(
  a: Common & { name: string; ttl?: string; reason?: string; for?: string; restore?: boolean },
): Promise<void> {
  const { lab, name, ref } = await testbedIn(a);
  const body = {
    ...(a.ttl ? { ttl: a.ttl } : {}),
    ...(a.reason ? { reason: a.reason } : {}),
    ...(a.for ? { owner: a.for } : {}),
    ...(a.restore === false ? { restore_on_release: false } : {}),
  };
  const r = await lab.client.call<Reservation>('POST', `/v1/testbeds/${seg(name)}/reservation`, `reserve ${ref}`, body);
  const noRestore = r.restore_on_release === false ? ' (its baseline is NOT restored when it ends)' : '';
  print(
    a.json,
    r,
    () =>
      `reserved ${ref} for ${r.owner} until ${r.expires_at}${noRestore}${credentialLine(r)}\n  release it with: mvm testbeds release ${ref}`,
  );
}

export async function renew(a: Common & { name: string; ttl?: string; reason?: string }): Promise<void> {
  const { lab, name, ref } = await testbedIn(a);
  const r = await lab.client.call<Reservation>(
    'PUT',
    `/v1/testbeds/${seg(name)}/reservation`,
    `renew the reservation of ${ref}`,
    { ...(a.ttl ? { ttl: a.ttl } : {}), ...(a.reason ? { reason: a.reason } : {}) },
  );
  print(a.json, r, () => `${ref} stays reserved for ${r.owner} until ${r.expires_at}${credentialLine(r)}`);
}

export async function release(a: Common & { name: string; force: boolean }): Promise<void> {
  const { lab, name, ref } = await testbedIn(a);
  const r = await lab.client.call<Reservation>(
    'DELETE',
    `/v1/testbeds/${seg(name)}/reservation${a.force ? '?force=true' : ''}`,
    `release ${ref}`,
  );
  print(a.json, r, () => `released ${ref} (it was reserved by ${r.owner})`);
}

function testbedAction(
  path: string,
  method: 'POST' | 'DELETE',
  doing: string,
  said: (t: Testbed, ref: string) => string,
) {
  return async (a: Common & { name: string; reason?: string }): Promise<void> => {
    const { lab, name, ref } = await testbedIn(a);
    const t = await lab.client.call<Testbed>(
      method,
      `/v1/testbeds/${seg(name)}${path}`,
      `${doing} ${ref}`,
      method === 'POST' ? (a.reason ? { reason: a.reason } : {}) : undefined,
    );
    print(a.json, t, () => said(t, ref));
  };
}

export const decommission = testbedAction(
  '/decommission',
  'POST',
  'decommission',
  (_, ref) => `${ref} is decommissioned: it takes no jobs`,
);
export const recommission = testbedAction(
  '/recommission',
  'POST',
  'recommission',
  (t, ref) => `${ref} is back (health ${t.health}); it takes jobs once a health check passes`,
);
export const check = testbedAction(
  '/check',
  'POST',
  'check',
  (t, ref) => `a health check of ${ref} is due now (health ${t.health}); see mvm testbeds show ${ref}`,
);

export async function maintenance(a: Common & { name: string; onoff: 'on' | 'off'; reason?: string }): Promise<void> {
  const on = a.onoff === 'on';
  await testbedAction(
    '/maintenance',
    on ? 'POST' : 'DELETE',
    on ? 'start maintenance of' : 'end maintenance of',
    (t, ref) =>
      on
        ? `${ref} is in maintenance: no jobs, no checks`
        : `${ref} is out of maintenance; it takes jobs once a health check passes (health ${t.health})`,
  )(a);
}

export async function userAction(
  a: Common & { action: 'create' | 'remove' | 'list'; username?: string; admin: boolean },
): Promise<void> {
  const lab = connectLab(a, 'manage the users of');
  if (a.action === 'list') {
    const users = await lab.call<Array<{ name: string; admin: boolean; created_at: string }>>(
      'GET',
      '/v1/users',
      'list users',
    );
    print(a.json, users, () =>
      users.length === 0
        ? 'no users'
        : users.map((u) => `${u.name}${u.admin ? ' (admin)' : ''}  created ${u.created_at}`).join('\n'),
    );
    return;
  }
  if (!a.username)
    throw new MvmError('USAGE', `mvm testbeds user ${a.action} needs a user name`, {
      hint: `mvm testbeds user ${a.action} NAME`,
    });
  if (a.action === 'remove') {
    const u = await lab.call<{ name: string }>(
      'DELETE',
      `/v1/users/${encodeURIComponent(a.username)}`,
      `remove user ${a.username}`,
    );
    print(a.json, u, () => `removed user ${u.name}; its token no longer works`);
    return;
  }
  const u = await lab.call<{ name: string; admin: boolean; token: string }>(
    'POST',
    '/v1/users',
    `create user ${a.username}`,
    { name: a.username, admin: a.admin },
  );
  // As `mvm admin user create`: only the token on stdout (TOKEN=$(…)), the words on stderr.
  if (!a.json)
    process.stderr.write(
      `mvm: created ${u.admin ? 'admin ' : ''}user ${u.name}; its token follows and is shown only once\n`,
    );
  print(a.json, u, () => u.token);
}

export { why } from './testbeds-why.js';

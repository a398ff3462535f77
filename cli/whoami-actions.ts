// What `mvm whoami` does: resolves each service's connection as the other commands would, asks it
// who the token is, and says where the token came from. A service nothing names is "not configured".
import { AdminClient } from '../shared/buildomat/admin.js';
import { UserClient } from '../shared/buildomat/user.js';
import { paintFor } from '../shared/color.js';
import { explained, httpClient } from './connect.js';
import { FleetClient, resolveFleet } from './fleet-client.js';
import { resolveLabs } from './labs.js';
import { probe, probeJson, type ClientArgs, type Probe } from './probe.js';
import { profileName, profilePath, resolveConnection } from './profile.js';
import { table } from './table.js';

interface Who {
  url: string;
  source: string;
  who: string;
}

/** Each configured service and who its token is. */
export async function askEveryone(a: ClientArgs) {
  const user = await probe(
    () => resolveConnection('user', a),
    async (conn): Promise<Who> => {
      const w = await explained(conn, { doing: 'ask who the user token is' }, () =>
        new UserClient(httpClient(conn)).whoami(),
      );
      return { url: conn.url, source: conn.tokenSource, who: `user ${w.name}` };
    },
  );
  const admin = await probe(
    () => resolveConnection('admin', { url: a.url }),
    async (conn): Promise<Who> => {
      await explained(conn, { doing: 'check the admin token' }, () => new AdminClient(httpClient(conn)).listTargets());
      return { url: conn.url, source: conn.tokenSource, who: 'admin' };
    },
  );
  const labs = await probe(
    () => resolveLabs(a),
    (all) =>
      Promise.all(
        all.map(async (l) => ({
          lab: l.name,
          probe: await probe(
            () => l.client,
            async (c): Promise<Who> => {
              const w = await c.call<{ name: string; admin: boolean }>('GET', '/v1/whoami', 'ask who the token is');
              return { url: c.conn.url, source: c.conn.tokenSource, who: `${w.name}${w.admin ? ' (admin)' : ''}` };
            },
          ),
        })),
      ),
  );
  const fleet = await probe(
    () => new FleetClient(resolveFleet({})),
    async (c): Promise<Who> => {
      const w = await c.call<{ name: string; role: string }>('GET', '/api/whoami', 'ask who the token is');
      return { url: c.conn.url, source: c.conn.tokenSource, who: `${w.name} (${w.role})` };
    },
  );
  return { user, admin, labs, fleet };
}

export async function whoami(a: ClientArgs): Promise<void> {
  const { file } = profilePath();
  const name = profileName() ?? 'default';
  const r = await askEveryone(a);
  const whoJson = (w: Who) => ({ url: w.url, token_from: w.source, who: w.who });
  if (a.json) {
    process.stdout.write(
      JSON.stringify(
        {
          profile: { name, file },
          job_server: probeJson(r.user, whoJson),
          admin: probeJson(r.admin, whoJson),
          labs:
            r.labs.state === 'ok'
              ? r.labs.value.map((l) => ({ lab: l.lab, ...probeJson(l.probe, whoJson) }))
              : probeJson(r.labs, () => ({})),
          fleet: probeJson(r.fleet, whoJson),
        },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  const paint = paintFor(process.stdout);
  const row = (what: string, p: Probe<Who>): string[] =>
    p.state === 'ok'
      ? [what, p.value.url, `${p.value.who}  (token from ${p.value.source})`]
      : p.state === 'unset'
        ? [what, '-', paint.dim(`not configured: ${p.why}`)]
        : [what, '', paint.red(`error: ${p.error}`)];
  const rows = [
    ['profile', name, file],
    row('job server', r.user),
    row('admin', r.admin),
    ...(r.labs.state === 'ok' ? r.labs.value.map((l) => row(`lab ${l.lab}`, l.probe)) : [row('lab', r.labs)]),
    row('fleet', r.fleet),
  ];
  process.stdout.write(table([], rows) + '\n');
}

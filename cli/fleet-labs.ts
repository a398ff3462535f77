// `mvm fleet labs [--lab NAME]`: every lab (factory) the fleet watches, whether it answers, and all
// their testbeds together (GET /api/labs): NAME, or NAME@LAB when more than one lab has the name.
import { connectFleet, type FleetFlags } from './fleet-client.js';
import { utc } from './fleet-format.js';
import { table } from './table.js';

interface LabRow {
  name: string;
  url: string;
  reachable: boolean | null;
  error: string | null;
  answeredAt: number | null;
  testbeds: number;
}
interface TestbedRow {
  name: string;
  ref: string;
  lab: string;
  state: string;
  health: string;
  lock: { kind: string; owner: string; expires_at: string | null } | null;
}

export async function labs(a: FleetFlags & { json: boolean; lab?: string }): Promise<void> {
  const q = a.lab ? `?lab=${encodeURIComponent(a.lab)}` : '';
  const r = await connectFleet(a).call<{ labs: LabRow[]; testbeds: TestbedRow[] }>(
    'GET',
    `/api/labs${q}`,
    'list the labs',
  );
  if (a.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  if (r.labs.length === 0) {
    process.stdout.write('no labs: add [lab] or [lab.NAME] url and token to the fleet config\n');
    return;
  }
  const state = (l: LabRow) =>
    l.reachable === false ? `UNREACHABLE: ${l.error ?? 'no answer'}` : l.reachable ? 'ok' : 'not asked yet';
  const lines = [
    table(
      ['LAB', 'URL', 'TESTBEDS', 'STATE', 'LAST ANSWER'],
      r.labs.map((l) => [l.name, l.url, String(l.testbeds), state(l), utc(l.answeredAt)]),
    ),
  ];
  if (r.testbeds.length > 0) {
    const held = (t: TestbedRow) =>
      t.lock ? `${t.lock.kind} ${t.lock.owner}${t.lock.expires_at ? ` until ${utc(t.lock.expires_at)}` : ''}` : '-';
    lines.push(
      '',
      table(
        ['TESTBED', 'LAB', 'STATE', 'HEALTH', 'HELD BY'],
        r.testbeds.map((t) => [t.ref, t.lab, t.state, t.health ?? '-', held(t)]),
      ),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const l of r.labs.filter((x) => x.reachable === false))
    process.stderr.write(`mvm: warning: lab ${l.name} does not answer; the other labs are listed\n`);
}

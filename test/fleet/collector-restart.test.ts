// A device restart seen by a real `mvm fleet` over a simulated Bitaxe: while it reboots the
// collector misses readings and says so (offline, then online, each an event); once it answers,
// a reading on the kept-alive connection the reboot closed is sent again on a new one, not counted
// as missed. Whatever moment the API is asked, a miner's status agrees with its last online/offline
// event: a status is shown when its event is written, not a write batch later.
import t from 'tap';
import { startAxeosSim } from '../../sim/index.js';
import { waitFor } from '../helpers/mvm-process.js';
import { startFleet } from './daemon-helpers.js';

interface Ev {
  id: number;
  kind: string;
  message: string;
}

t.test('restart, then a settings change: status and events agree, no stale-socket misses', async (t) => {
  const sim = await startAxeosSim({ board: '601', seed: 'restart-race' });
  t.teardown(() => sim.close());
  const fleet = await startFleet(
    t,
    [
      '[fleet]',
      'poll_interval = "300ms"',
      'udp_port = 0',
      '',
      '[miner.gamma]',
      'driver = "axeos"',
      `address = "${sim.url}"`,
      '',
    ].join('\n'),
  );
  await waitFor(
    async () => (await fleet.call('GET', '/api/miners/gamma')).body.status === 'online',
    'gamma online',
    30_000,
  );

  const lastStatusEvent = async (): Promise<string | undefined> => {
    const evs = (await fleet.call('GET', '/api/dashboard/events/recent?miner=gamma&limit=50')).body as Ev[];
    return evs.find((e) => e.kind === 'online' || e.kind === 'offline')?.kind;
  };
  // Watches the miner as a client would, until stopped: every status shown must agree with the last
  // online/offline event (asked just before and just after, so a change in between is no mismatch).
  const mismatches: string[] = [];
  const seen = new Set<string>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const before = await lastStatusEvent();
      const m = (await fleet.call('GET', '/api/miners/gamma')).body as { status: string; lastError: string | null };
      const after = await lastStatusEvent();
      seen.add(m.status);
      const agrees = (ev: string | undefined) => (m.status === 'offline' ? ev === 'offline' : ev !== 'offline');
      if (!agrees(before) && !agrees(after))
        mismatches.push(`status ${m.status} (${m.lastError ?? 'no error'}) while the last event is ${after ?? 'none'}`);
    }
  })();

  const r = await fleet.call('POST', '/api/miners/gamma/restart', { body: { timeout: '60s' } });
  t.equal(r.status, 200, JSON.stringify(r.body));
  const set = await fleet.call('POST', '/api/miners/gamma/settings', { body: { fan: 80, frequency: 500 } });
  t.equal(set.status, 200, JSON.stringify(set.body));
  const marker = (await fleet.call('GET', '/api/dashboard/events/recent?miner=gamma&limit=1')).body[0] as Ev;
  // a few more readings after the change
  const reads = sim.device.bootCount;
  await waitFor(
    async () => {
      const m = (await fleet.call('GET', '/api/miners/gamma/telemetry')).body;
      return m.status === 'online' && Date.parse(m.lastSeenAt) > Date.parse(new Date().toISOString()) - 200;
    },
    'gamma read after the change',
    30_000,
  );
  for (let i = 0; i < 10; i++) await fleet.call('GET', '/api/miners/gamma/telemetry?refresh=true');
  watching = false;
  await watch;
  t.same(mismatches, [], 'the status shown always agreed with the last online/offline event');
  t.ok(seen.has('online'));
  t.equal(sim.device.bootCount, reads, 'no reboot after the settings change');
  const after = ((await fleet.call('GET', '/api/dashboard/events/recent?miner=gamma&limit=50')).body as Ev[]).filter(
    (e) => e.id > marker.id && (e.kind === 'offline' || e.kind === 'online'),
  );
  t.same(after, [], 'no offline/online flap after the device was back');
  const m = (await fleet.call('GET', '/api/miners/gamma')).body;
  t.match(m, { status: 'online', missed: 0 });
});

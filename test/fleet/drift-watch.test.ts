// Drift found by the periodic check: a miner changed behind the fleet's back is one drift event,
// not one per pass; reads only (no reservation), through the driver, against a real simulator.
import t from 'tap';
import { startAxeosSim } from '../../sim/index.js';
import { silentLogger } from '../../shared/log.js';
import { FleetActions } from '../../fleet/actions/actions.js';
import { DriftWatch } from '../../fleet/actions/drift-watch.js';
import { fleetDb } from './helpers.js';

t.test('a drifted miner is reported once per desired state', async (t) => {
  const sim = await startAxeosSim({ board: '601', seed: 'drift-watch' });
  t.teardown(() => sim.close());
  const { stores } = fleetDb(t);
  stores.miners.syncConfigMiners([
    { id: 'g', driver: 'axeos', address: sim.url, options: {}, tags: [], source: 'config' },
  ]);
  stores.live.write([{ id: 'g', status: 'online', missed: 0, lastSeenAt: Date.now(), last: null, lastError: null }]);
  const actions = new FleetActions({
    ...stores,
    lab: () => {
      throw new Error('no lab');
    },
    log: silentLogger(),
  });
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const watch = new DriftWatch({
    miners: stores.miners,
    desired: stores.desired,
    actions,
    log: silentLogger(),
    signal: stop.signal,
  });
  await actions.setMode('g', 'turbo', { actor: 'tester' });
  await watch.sweep();
  t.same(stores.events.recent({ kinds: ['drift'] }), [], 'in line: no drift');
  await fetch(`${sim.url}/api/system`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ frequency: 450 }),
  });
  await watch.sweep();
  await watch.sweep();
  const drift = stores.events.recent({ kinds: ['drift'] });
  t.equal(drift.length, 1, 'one event for two passes');
  t.match(drift[0], {
    minerId: 'g',
    actor: 'drift-check',
    message: /g drifted from what the fleet wants \(mode: wanted turbo, device has 450 MHz/,
  });
  await actions.setMode('g', 'turbo', { actor: 'tester' });
  await watch.sweep();
  t.equal(stores.events.recent({ kinds: ['drift'] }).length, 1, 'put back in line: nothing new');
});

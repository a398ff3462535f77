// The data plane as the daemon starts it: a fleet config file with simulators, readings stored,
// a reload (as on SIGHUP) adding and removing miners, a bad file rejected without harm, and a
// restart that finds the miners' state where it was left.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAxeosSim } from '../../sim/index.js';
import { silentLogger } from '../../shared/log.js';
import { loadFleetConfig } from '../../fleet/config/load.js';
import { startDataPlane } from '../../fleet/data-plane.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

const fleetToml = (miners: Record<string, string>, extra = '') =>
  `[fleet]\npoll_interval = "100ms"\nudp_port = 0\n${extra}\n` +
  Object.entries(miners)
    .map(([id, url]) => `[miner.${id}]\ndriver = "axeos"\naddress = "${url}"\n`)
    .join('\n');

t.test('start, reload on SIGHUP, a rejected reload, and a restart', async (t) => {
  const dir = tempDir(t, 'mvm-fleet-dp-');
  const a = await startAxeosSim({ seed: 'dp-a' });
  const b = await startAxeosSim({ seed: 'dp-b' });
  t.teardown(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const file = join(dir, 'fleet.toml');
  writeFileSync(file, fleetToml({ a: a.url }));
  const dp = await startDataPlane({
    config: loadFleetConfig(file, { env: {} }),
    dataDir: join(dir, 'data'),
    log: silentLogger(),
    env: {},
  });
  let closed = false;
  t.teardown(() => (closed ? undefined : dp.close()));
  await waitFor(() => dp.stores.miners.get('a')?.status === 'online', 'a online');

  writeFileSync(file, fleetToml({ b: b.url }, 'concurrency = 4'));
  const r = dp.reload();
  t.match(r, { ok: true, added: ['b'], removed: ['a'], restartNeeded: ['fleet.concurrency'] });
  await waitFor(() => dp.stores.miners.get('b')?.status === 'online', 'b online after the reload');
  t.equal(dp.stores.miners.get('a'), undefined);
  t.match(dp.stores.events.recent({ kinds: ['config'] })[0], {
    level: 'warn',
    message: /1 miner\(s\) added.*fleet\.concurrency take effect at the next start/,
  });

  writeFileSync(file, '[miner.c]\ndriver = "nope"\n');
  const bad = dp.reload();
  t.equal(bad.ok, false);
  t.match(dp.stores.events.recent({ kinds: ['config'] })[0], {
    level: 'error',
    message: /reload rejected/,
    data: { problems: [{ key: 'miner.c.driver' }, { key: 'miner.c.address' }] },
  });
  t.ok(dp.stores.miners.get('b'), 'the running config stays');
  t.equal(dp.config().miners[0].id, 'b');

  await dp.close();
  closed = true;
  // A restart: the state and history are where they were.
  writeFileSync(file, fleetToml({ b: b.url }));
  const again = await startDataPlane({
    config: loadFleetConfig(file, { env: {} }),
    dataDir: join(dir, 'data'),
    log: silentLogger(),
    env: {},
  });
  t.teardown(() => again.close());
  t.equal(again.stores.live.get('b')?.status, 'online', 'the live state survives a restart');
  t.ok(again.stores.history.latest().get('b'), 'and the samples');
});

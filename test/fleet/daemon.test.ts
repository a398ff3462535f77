// The `mvm fleet` daemon's life: --check reports every problem at once, SIGHUP reloads the config
// without a restart (a bad one is an event and the old one stays), SIGTERM ends the event streams
// and exits cleanly, kill -9 keeps what was stored.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAxeosSim } from '../../sim/index.js';
import { projectPath } from '../../shared/paths.js';
import { runMvm, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { startFleet } from './daemon-helpers.js';

const miner = (name: string, url: string) =>
  [`[miner.${name}]`, 'driver = "axeos"', `address = "${url}"`, ''].join('\n');
const head = ['[fleet]', 'poll_interval = "300ms"', 'udp_port = 0', ''].join('\n');

t.test('--check: ok, or every problem with its key and hint', async (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good.toml');
  writeFileSync(good, head + miner('a', 'http://127.0.0.1:1'));
  const ok = await runMvm(['fleet', '--config', good, '--check']);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /good\.toml: ok \(fleet config, 1 miner, 0 from testbeds, lab none\)/);
  const bad = join(dir, 'bad.toml');
  writeFileSync(
    bad,
    [
      '[fleet]',
      'poll_interval = "often"',
      '[miner.a]',
      'driver = "asic"',
      'address = "x"',
      '[miner.b]',
      'driver = "cgminer"',
      'address = "nohost"',
      'colour = 1',
    ].join('\n'),
  );
  const r = await runMvm(['fleet', '--config', bad, '--check']);
  t.equal(r.code, 1);
  t.match(r.stderr, /configuration problems/);
  for (const key of ['fleet.poll_interval', 'miner.a.driver', 'miner.b.address', 'miner.b.colour'])
    t.match(r.stderr, new RegExp(`bad\\.toml: ${key.replace(/\./g, '\\.')}:`), key);
  const example = await runMvm(['fleet', '--config', projectPath('examples', 'fleet.toml'), '--check']);
  t.equal(example.code, 0, example.stderr);
  t.match(example.stdout, /fleet\.toml: ok \(fleet config, 3 miners/, 'the example in examples/ is valid');
  const missing = await runMvm(['fleet', '--config', good]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /missing --data DIR/);
});

t.test('SIGHUP reloads the config; a bad one is an event and the old one stays', async (t) => {
  const a = await startAxeosSim({ seed: 'hup-a' });
  const b = await startAxeosSim({ seed: 'hup-b' });
  t.teardown(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const fleet = await startFleet(t, head + miner('a', a.url));
  const ids = async () => (await fleet.call('GET', '/api/miners/')).body.map((m: { id: string }) => m.id).sort();
  t.same(await ids(), ['a']);
  writeFileSync(fleet.configFile, head + miner('a', a.url) + miner('b', b.url));
  fleet.proc.child.kill('SIGHUP');
  await waitFor(async () => (await ids()).includes('b'), 'miner b after the reload');
  await waitFor(async () => (await fleet.call('GET', '/api/miners/b')).body.status === 'online', 'b read', 30_000);
  const reloaded = (await fleet.call('GET', '/api/dashboard/events/recent?kind=config')).body[0];
  t.match(reloaded, {
    kind: 'config',
    level: 'info',
    message: /config reloaded: 1 miner\(s\) added, 0 changed, 0 removed/,
  });

  writeFileSync(fleet.configFile, head + '[miner.c]\ndriver = "axeos"\n');
  const lines = fleet.proc.stdout.length;
  fleet.proc.child.kill('SIGHUP');
  await waitFor(() => fleet.proc.stdout.slice(lines).some((l) => /kept its config/.test(l)), 'the bad config rejected');
  const rejected = (await fleet.call('GET', '/api/dashboard/events/recent?kind=config')).body[0];
  t.match(rejected, {
    level: 'error',
    message: /config reload rejected, the running config stays/,
    data: { problems: [{ key: 'miner.c.address', message: 'missing' }] },
  });
  t.ok(fleet.proc.stdout.some((l) => /kept its config: .* has problems/.test(l)));
  t.same(await ids(), ['a', 'b'], 'the miners of the previous config stay');
  t.equal((await fleet.call('GET', '/healthz', { token: null })).body.lifecycle, 'running');
});

t.test('SIGTERM ends open event streams and exits 0; kill -9 keeps what was stored', async (t) => {
  const a = await startAxeosSim({ seed: 'term-a' });
  t.teardown(() => a.close());
  const fleet = await startFleet(t, head + miner('a', a.url));
  await fleet.call('POST', '/api/pools/', {
    body: { id: 'p1', name: 'P1', url: 'stratum+tcp://p1.example', port: 3333, user: 'w' },
  });
  const res = await fetch(`${fleet.url}/api/events/stream`, {
    headers: { authorization: `Bearer ${fleet.adminToken}` },
  });
  const reader = res.body!.getReader();
  await reader.read();
  const code = fleet.stop();
  for (;;) {
    const { done } = await reader.read();
    if (done) break;
  }
  t.pass('the stream ended');
  t.equal(await code, 0);

  const again = await startFleet(t, head + miner('a', a.url), { dataDir: fleet.dataDir });
  t.equal(again.adminToken, fleet.adminToken, 'the admin token made on first start is kept');
  t.equal((await again.call('GET', '/api/pools/')).body[0].id, 'p1');
  await again.proc.kill9();
  const third = await startFleet(t, head + miner('a', a.url), { dataDir: fleet.dataDir });
  t.equal((await third.call('GET', '/api/pools/')).body.length, 1, 'the pool survived kill -9');
  t.ok(
    (await third.call('GET', '/api/dashboard/events/recent?kind=config&limit=10')).body.some((e: { message: string }) =>
      /^started with/.test(e.message),
    ),
  );
});

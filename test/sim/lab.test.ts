// `mvm sim lab -f factory.toml` as a real process: one simulator per device with a `sim` table,
// one readiness line each, all stopped on SIGTERM; configuration problems reported together.
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runMvm, startMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { cgminerExchange, getJson, unreachable } from './support.js';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

t.teardown(() => stopAllMvm());

t.test('starts every simulated device at its address and stops them all on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const gammaPort = await freePort();
  // Telemetry and reports go to ports of this test, never to the well-known 12345/12346.
  const [telPort, repPort] = [await freePort(), await freePort()];
  const file = join(dir, 'factory.toml');
  writeFileSync(
    file,
    `
[general]
baseurl = "http://127.0.0.1:9300"
[factory]
token = "not-read-here"
[target.bitaxe]

[testbed.bench-1]
targets = ["bitaxe"]
enabled = true
baseline = "v2.9.0"
agent = { mode = "local" }
[testbed.bench-1.devices.gamma]
driver = "axeos"
hardware = "601"
software = "v2.9.0"
address = "http://127.0.0.1:${gammaPort}"
attributes = ["fan:stock"]
sim = { board = "601", firmware = "v2.9.0" }
[testbed.bench-1.devices.supra]
driver = "axeos"
hardware = "401"
software = "v2.15.0"
address = "http://127.0.0.1:0"
sim = { faults = ["slow=10"] }
[testbed.bench-1.devices.real-one]
driver = "axeos"
hardware = "601"
address = "http://127.0.0.1:1"

[testbed.avalons]
targets = ["bitaxe"]
[testbed.avalons.devices.nano]
driver = "cgminer"
hardware = "nano3s"
address = "127.0.0.1:0"
sim = { quirks = false }
[testbed.avalons.devices.lotto]
driver = "nmminer"
hardware = "nmlotto"
address = "127.0.0.1:0"
sim = { interval_ms = 1000, telemetry = "127.0.0.1:${telPort}", report = "127.0.0.1:${repPort}" }

[testbed.sp-1]
targets = ["bitaxe"]
sp_type = "gimlet"
sp_runner_path = "/bin/true"
sp_runner_config = "/dev/null"
`,
  );
  const p = startMvm(['sim', 'lab', '-f', file]);
  const lines: string[] = [];
  for (const re of [/axeos listening on http:\/\/127\.0\.0\.1:\d+$/, /cgminer listening/, /nmminer listening/])
    lines.push(await p.waitForLine(re));
  const ready = p.stdout.filter((l) => l.startsWith('mvm sim '));
  t.equal(ready.length, 4, `one readiness line per simulated device:\n${ready.join('\n')}`);
  t.ok(ready.includes(`mvm sim axeos listening on http://127.0.0.1:${gammaPort}`), 'the device address is used');
  const gamma = await getJson(`http://127.0.0.1:${gammaPort}/api/system/info`);
  t.match(gamma, { boardVersion: '601', version: 'v2.9.0', ASICModel: 'BM1370' });
  const supraUrl = ready
    .find((l) => l.includes('axeos') && !l.endsWith(`:${gammaPort}`))!
    .split(' ')
    .pop()!;
  const supra = await getJson(`${supraUrl}/api/system/info`);
  t.match(supra, { boardVersion: '401', version: 'v2.15.0' }, 'board and firmware default to hardware and software');
  t.match((await getJson(`${supraUrl}/__sim/state`)).faults, { slow: 10 });
  const cgPort = Number(
    ready
      .find((l) => l.includes('cgminer'))!
      .split(':')
      .pop(),
  );
  t.match((await cgminerExchange(cgPort, 'version')).raw, /PROD=Avalon Nano3s/);

  t.equal(await p.stop(), 0);
  t.ok(await unreachable(`http://127.0.0.1:${gammaPort}/api/system/info`), 'stopped');
  t.equal((await cgminerExchange(cgPort, 'version').catch(() => ({ raw: '' }))).raw, '');
});

t.test('every configuration problem is reported at once, nothing starts', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.toml');
  writeFileSync(
    file,
    `
[testbed.a.devices.x]
driver = "axeos"
address = "http://127.0.0.1:0"
sim = { board = "999" }
[testbed.a.devices.y]
driver = "command"
address = "127.0.0.1:0"
sim = {}
[testbed.a.devices.z]
driver = "cgminer"
address = "10.0.0.5:4028"
sim = { faults = ["meltdown"] }
[testbed.a.devices.w]
driver = "nmminer"
address = "127.0.0.1:0"
sim = { telemetry = "192.168.1.255:12345" }
`,
  );
  const r = await runMvm(['sim', 'lab', '-f', file]);
  t.equal(r.code, 1);
  t.match(r.stderr, /4 configuration problems/);
  t.match(r.stderr, /testbed\.a\.devices\.w: simulators stay on loopback only/);
  t.match(r.stderr, /testbed\.a\.devices\.x: unknown board "999"/);
  t.match(r.stderr, /testbed\.a\.devices\.y\.driver: no simulator for driver "command"/);
  t.match(r.stderr, /testbed\.a\.devices\.z\.sim\.faults: unknown fault "meltdown"/);
  t.notMatch(r.stdout, /listening/);

  writeFileSync(file, '[testbed.a.devices.x]\ndriver = "axeos"\naddress = "http://127.0.0.1:0"\n');
  const none = await runMvm(['sim', 'lab', '-f', file]);
  t.equal(none.code, 1);
  t.match(none.stderr, /no device with a sim table/);

  writeFileSync(file, '[testbed.a\n');
  const syntax = await runMvm(['sim', 'lab', '-f', file]);
  t.equal(syntax.code, 1);
  t.match(syntax.stderr, /not valid TOML/);
  const missing = await runMvm(['sim', 'lab', '-f', join(dir, 'nope.toml')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /cannot read/);
});

t.test('a port already taken is a clear error and nothing is left running', async (t) => {
  const dir = tempDir(t);
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise((r) => busy.close(r)));
  const port = (busy.address() as { port: number }).port;
  const file = join(dir, 'busy.toml');
  writeFileSync(
    file,
    `
[testbed.a.devices.first]
driver = "axeos"
address = "http://127.0.0.1:0"
sim = {}
[testbed.a.devices.second]
driver = "axeos"
address = "http://127.0.0.1:${port}"
sim = {}
`,
  );
  const r = await runMvm(['sim', 'lab', '-f', file]);
  t.equal(r.code, 1);
  t.match(r.stderr, /cannot start the simulator for testbed\.a\.devices\.second/);
  t.match(r.stderr, /hint:/);
});

t.test('nothing left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

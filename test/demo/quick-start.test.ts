// The README's quick start, as `npm start` runs it: `mvm demo` brings up the job server, the
// simulated lab of config.example.toml and the factory; its sample job flashes v2.10.0 onto a
// simulated Bitaxe Gamma, runs a test definition with checks and controls the miner; the job's
// events and outputs are as expected, the JUnit file parses, the testbed returns to its baseline,
// and Ctrl-C leaves nothing running. A second start reuses the state (tokens, profile).
import t from 'tap';
import { XMLParser } from 'fast-xml-parser';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import { HttpClient } from '../../shared/http.js';
import { runMvm, startMvm, waitFor, type MvmProcess } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

/** Processes whose command line names the demo's folder (the factory, agents, runners, simulators). */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (cmd.includes(dir) && !/\) Z /.test(stat)) out.push(`${pid}: ${cmd.trim()}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

const line = (p: MvmProcess, re: RegExp) => p.stdout.find((l) => re.test(l));

t.test('mvm demo: the whole lab, a hardware job, and back to baseline', async (t) => {
  const dir = tempDir(t, 'mvm-demo-');
  const demo = startMvm(['demo', '--data', dir, '--listen', '127.0.0.1:0', '--free-ports'], {
    env: { MVM_LOG_LEVEL: 'info' },
  });
  t.teardown(() => demo.stop(20_000));
  await demo.waitForLine(/^mvm demo: ready/, 180_000);
  const out = demo.stdout.join('\n');

  for (const kind of ['axeos', 'cgminer', 'nmminer'])
    t.match(out, new RegExp(`simulated ${kind} `), `a simulated ${kind} device`);
  t.match(out, /mvm demo: sample job \S+ passed/);
  t.match(
    out,
    /ok {3}prepare gamma: flashed v2\.10\.0 \(was v2\.9\.0\)/,
    'the runner flashed the firmware the test asks for',
  );
  t.match(out, /ok {3}hashrate \(miner\): .* of expected .*GH\/s/);
  t.match(out, /ok {3}temperature \(miner\)/);
  t.match(out, /bitaxe-gamma back to its baseline: ok: gamma: flashed v2\.9\.0 \(was v2\.10\.0\)/);
  t.match(out, /gamma: turbo on BM1370/, "the job's script controlled the miner");
  t.match(out, /npx mvm job run --spec \S+smoke\.yaml --wait --outputs/, 'it says how to submit another job');

  // The job's results, as the demo downloaded them: JSON and a JUnit file a JUnit parser reads.
  const resultsFile = /results: (\S+results\.json)$/m.exec(out)![1];
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  t.match(results, {
    ok: true,
    name: 'bitaxe-gamma-smoke',
    preparation: [{ ok: true, to: 'v2.10.0' }],
    script: { ok: true },
  });
  t.equal(results.checks.length, 3);
  const junit = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(/JUnit: +(\S+)$/m.exec(out)![1], 'utf8'));
  const suite = junit.testsuites?.testsuite ?? junit.testsuite;
  t.equal(Number(suite['@_failures'] ?? 0), 0, 'no JUnit failures');
  t.ok(Number(suite['@_tests']) >= 5, 'prepare, script and three checks as JUnit cases');

  // The job on the server: its events and outputs.
  const profileFile = join(dir, 'profile.toml');
  t.equal(statSync(profileFile).mode & 0o777, 0o600, 'the profile is private');
  const profile = TOML.parse(readFileSync(profileFile, 'utf8')) as {
    url: string;
    token: string;
    admin_token: string;
    lab_url: string;
    lab_token: string;
  };
  const user = new HttpClient({ baseUrl: profile.url, token: profile.token });
  const job = /sample job (\S+) passed/.exec(out)![1];
  const events = await user.get<Array<{ stream: string; payload: string }>>(`/0/jobs/${job}/events`, {
    query: { minseq: 0 },
  });
  const text = events.map((e) => `${e.stream} ${e.payload}`).join('\n');
  t.match(text, /worker downloaded input: spec\/esp-miner-v2\.10\.0\.bin/);
  t.match(text, /flashed the software the test asks for/);
  t.match(text, /test bitaxe-gamma-smoke: PASSED/);
  t.match(text, /task process exited: duration \d+ ms, exit code 0/);
  const outputs = (await user.get<Array<{ path: string }>>(`/0/jobs/${job}/outputs`)).map((o) => o.path).sort();
  t.same(outputs, ['/work/output/junit.xml', '/work/output/results.json', '/work/output/script.log']);

  // The testbed is back: the simulated Gamma runs its baseline, and the factory has it free and good.
  const gammaUrl = /simulated axeos +(\S+) +\(bitaxe-gamma\/gamma\)/.exec(out)![1];
  const info = (await (await fetch(`${gammaUrl}/api/system/info`)).json()) as { version: string };
  t.equal(info.version, 'v2.9.0');
  const lab = new HttpClient({ baseUrl: profile.lab_url, token: profile.lab_token });
  const gamma = await lab.get<{ free: boolean; health: string }>('/v1/testbeds/bitaxe-gamma');
  t.match(gamma, { free: true, health: 'good' });
  const all = await lab.get<Array<{ name: string; health: string }>>('/v1/testbeds');
  t.same(
    all.map((x) => x.name).sort(),
    ['bitaxe-gamma', 'bitaxe-supra', 'grapefruit-sim', 'nano-3s', 'nmminer-1'],
    'five testbeds, one of them the SP testbed',
  );

  // The fleet controller over the same lab: every simulated miner, through the profile's fleet_url.
  t.match(out, /fleet API +http:\/\/\S+ +\(OpenAPI: /);
  t.match(out, /fleet token +\S{20,}/);
  // its web UI, and the lab and jobs behind it
  const ui = /web UI +(http:\/\/\S+?)\/? +\(log in with the fleet token\)/.exec(out);
  t.ok(ui, 'the demo prints the web UI and how to log in');
  t.match((await fetch(ui![1] + '/')).headers.get('content-type'), /^text\/html/);
  const fp = TOML.parse(readFileSync(profileFile, 'utf8')) as { fleet_url: string; fleet_token: string };
  const fleet = new HttpClient({ baseUrl: fp.fleet_url, token: fp.fleet_token });
  await waitFor(
    async () =>
      (await fleet.get<Array<{ id: string; status: string }>>('/api/miners/')).some(
        (m) => m.id === 'bitaxe-gamma.gamma' && m.status === 'online',
      ),
    'the fleet reads the Gamma',
    60_000,
  );
  t.same(
    await fleet.get('/api/web/lab'),
    { lab: true, jobs: true, labs: ['default'] },
    'the UI reaches the factory API (the lab "default") and the job server',
  );
  const miners = await runMvm(['fleet', 'miners'], { env: { MVM_PROFILE: profileFile } });
  t.equal(miners.code, 0, miners.stderr);
  t.match(miners.stdout, /bitaxe-gamma\.gamma +axeos +online/);
  // What a newcomer needs: where the admin tokens are, and how to read the NMMiner (its telemetry
  // arrives as UDP datagrams, on the port the option names).
  t.equal(/admin tokens job server: admin_token in (\S+) /.exec(out)?.[1], profileFile);
  const factoryAdmin = /^ +factory API: (\S+factory-api-admin-token)$/m.exec(out);
  t.ok(factoryAdmin, "the factory API's admin token file");
  t.match(readFileSync(factoryAdmin![1], 'utf8'), /^\S{16,}\n?$/);
  const nm = /npx mvm runner telemetry --driver nmminer --address (\S+) --option telemetry_port=(\d+)$/m.exec(out);
  t.ok(nm, 'how to read the NMMiner, with its telemetry option');
  const factoryToml = TOML.parse(readFileSync(join(dir, 'factory.toml'), 'utf8')) as {
    testbed: Record<
      string,
      { devices: Record<string, { driver: string; address: string; options?: { telemetry_port?: number } }> }
    >;
  };
  const nmDevice = Object.values(factoryToml.testbed)
    .flatMap((tb) => Object.values(tb.devices ?? {}))
    .find((d) => d.driver === 'nmminer');
  t.same([nm![1], Number(nm![2])], [nmDevice!.address, nmDevice!.options?.telemetry_port ?? 12345]);
  // The simulated NMMiner broadcasts on loopback, as the firmware does on its LAN: the factory's
  // health check, the fleet and that command each get its telemetry on the one port.
  await waitFor(
    async () => (await lab.get<{ health: string }>('/v1/testbeds/nmminer-1')).health === 'good' || undefined,
    'the NMMiner testbed healthy',
    120_000,
  );
  await waitFor(
    async () =>
      (await fleet.get<Array<{ id: string; status: string }>>('/api/miners/')).some(
        (m) => m.id === 'nmminer-1.lotto' && m.status === 'online',
      ),
    'the fleet reads the NMMiner',
    60_000,
  );
  const read = await runMvm([
    'runner',
    'telemetry',
    '--driver',
    'nmminer',
    '--address',
    nm![1],
    '--option',
    `telemetry_port=${nm![2]}`,
  ]);
  t.equal(read.code, 0, read.stderr);
  t.match(read.stdout, /kH\/s/, 'the printed command reads it while the demo runs');
  // energy: the fleet's [energy] reads the demo's simulated Octopus API
  t.match(out, /Octopus prices +http:\/\/127\.0\.0\.1:\d+ +\(simulated Agile /);
  await waitFor(
    async () => (await fleet.get<{ estimated: boolean }>('/api/dashboard/energy/current')).estimated === false,
    'a price from the simulated Octopus API',
    60_000,
  );
  const energy = await runMvm(['fleet', 'energy', 'current'], { env: { MVM_PROFILE: profileFile } });
  t.equal(energy.code, 0, energy.stderr);
  t.match(energy.stdout, /p\/kWh/);

  demo.child.kill('SIGINT');
  t.equal(await demo.exited, 0, 'Ctrl-C stops the demo cleanly');
  t.match(demo.stdout.at(-1), /mvm demo: stopped/);
  t.same(leftovers(dir), [], 'nothing of the demo is left running');

  // A second start keeps the tokens and the history.
  const again = startMvm(['demo', '--data', dir, '--listen', '127.0.0.1:0', '--free-ports', '--no-sample']);
  t.teardown(() => again.stop(20_000));
  await again.waitForLine(/^mvm demo: ready/, 120_000);
  const profile2 = TOML.parse(readFileSync(profileFile, 'utf8')) as { token: string; admin_token: string };
  t.equal(profile2.token, profile.token, 'the user token is kept');
  t.equal(profile2.admin_token, profile.admin_token, 'the admin token is kept');
  const url2 = /job server +(\S+)/.exec(line(again, /job server /)!)![1];
  t.match(
    await new HttpClient({ baseUrl: url2, token: profile2.token }).get(`/0/job/${job}`),
    { id: job, state: 'completed' },
    'the sample job is still there',
  );
  again.child.kill('SIGINT');
  t.equal(await again.exited, 0);
  t.same(leftovers(dir), []);
});

// `mvm runner test` as a job runs it: two runs of one definition from two different folders (as two
// jobs' input folders are) give identical JUnit test-case names, free of paths and ids; the runner's
// log is plain lines, the script's stdout stays on stdout, and results are named by output path.
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { startAxeosSim } from '../../sim/axeos/index.js';
import { buildImage } from '../../runner/firmware/image.js';
import { runMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { gammaDevice, writeTestbed } from './support.js';

const sim = await startAxeosSim({ board: '601', rebootDelayMs: 50, bootMs: 300 });
t.teardown(() => sim.close());
const dir = tempDir(t);
const testbed = writeTestbed(dir, {
  instance: '01JTEST',
  target: 'bitaxe',
  baseline: 'v2.15.0',
  devices: [gammaDevice(sim.url)],
});

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'testcase' });

/** One job's run: the definition and its script in a folder of their own, outputs in another. */
async function run(name: string) {
  const inputs = join(dir, name, 'instances', `inst-${name}`, 'jobs', `job-${name}`, 'input', 'spec');
  const output = join(dir, name, 'instances', `inst-${name}`, 'jobs', `job-${name}`, 'output');
  mkdirSync(inputs, { recursive: true });
  writeFileSync(join(inputs, 'smoke.sh'), 'echo "hello from the script"\necho "to stderr" >&2\n');
  writeFileSync(
    join(inputs, 'smoke.yaml'),
    'script: smoke.sh\ndevices: [{hardware: "601"}]\nchecks:\n  - {type: temperature, max: 1, window: 300ms}\n',
  );
  const r = await runMvm(
    ['runner', 'test', '--spec', join(inputs, 'smoke.yaml'), '--testbed', testbed, '--poll', '100ms'],
    {
      env: { MVM_LOG_LEVEL: 'info', MVM_TESTBED: undefined, MVM_OUTPUT_DIR: output, MVM_LOG_FORMAT: undefined },
    },
  );
  const suite = xml.parse(readFileSync(join(output, 'junit.xml'), 'utf8')).testsuites.testsuite;
  return {
    r,
    inputs,
    output,
    names: (suite.testcase as Array<{ classname: string; name: string }>).map((c) => `${c.classname} / ${c.name}`),
  };
}

t.test('JUnit names are the same in two runs and name no path', async (t) => {
  const a = await run('a');
  const b = await run('b');
  t.equal(a.r.code, 1, 'the temperature check fails (max 1 °C)');
  t.same(a.names, b.names, 'identical test-case names across runs');
  t.same(a.names, ['smoke / script smoke.sh', 'smoke.device0 / temperature [gamma]']);
  for (const n of a.names) t.notMatch(n.split(' / ')[1], /\/|inst-|job-/, `no path or id in ${n}`);

  // The runner's log: plain lines on stderr, never pino JSON, even without a terminal.
  const logLines = a.r.stderr.split('\n').filter((l) => /^(INFO|WARN|ERROR)\s/.test(l));
  t.ok(logLines.length > 0, 'the runner logged plain lines');
  t.match(a.r.stderr, /^INFO  bench-1 smoke: running the test script smoke\.sh$/m);
  t.notMatch(a.r.stderr, /\{"level":/, 'no JSON log line');
  t.notOk(a.r.stderr.includes(a.inputs), 'no agent-local path in the log');
  // The script's stdout stays stdout; its stderr goes to stderr.
  t.match(a.r.stdout, /^hello from the script$/m);
  t.notMatch(a.r.stderr, /hello from the script/);
  t.match(a.r.stderr, /^to stderr$/m);
  // Results named by output path, not the agent's folder for the job.
  t.match(a.r.stdout, /results: \/work\/output\/results\.json, \/work\/output\/junit\.xml/);
  t.notOk(a.r.stdout.includes(a.output), 'no agent-local path in what the user reads');
  t.match(a.r.stdout, /FAIL temperature \[gamma\]/);
  // The check window is not silent: a line per poll (at most one per 10 s) with where it is.
  t.match(a.r.stderr, /^INFO  bench-1 smoke device0: sample \[1\/4\]: \d+(\.\d)? GH\/s, [\d.]+ °C/m);
});

t.test('a flash inside a test says its upload rate and when it is done', async (t) => {
  const spec = join(dir, 'flash');
  mkdirSync(spec, { recursive: true });
  writeFileSync(join(spec, 'fw.bin'), buildImage({ version: 'v2.16.0', size: 300_000 }));
  writeFileSync(join(spec, 'fw.bin.json'), JSON.stringify({ family: 'bitaxe', board: '601' }));
  writeFileSync(
    join(spec, 'flash.yaml'),
    'devices: [{hardware: "601", software: v2.16.0, image: fw.bin}]\nchecks:\n  - {type: temperature, max: 200, window: 200ms}\n',
  );
  const r = await runMvm(
    ['runner', 'test', '--spec', join(spec, 'flash.yaml'), '--testbed', testbed, '--poll', '100ms'],
    {
      env: {
        MVM_LOG_LEVEL: 'info',
        MVM_TESTBED: undefined,
        MVM_OUTPUT_DIR: join(spec, 'out'),
        MVM_LOG_FORMAT: undefined,
      },
    },
  );
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /^INFO  bench-1 flash gamma: upload 100% \(293\/293 KiB, \d+ KiB\/s, done\)$/m);
  t.match(r.stdout, /ok {3}prepare gamma: flashed v2\.16\.0 \(was v2\.15\.0\) from fw\.bin$/m);
  t.notOk(r.stdout.includes(spec) || r.stderr.includes(spec), 'no agent-local folder named');
});

t.test('MVM_LOG_FORMAT=json keeps JSON lines for whoever wants them', async (t) => {
  const r = await runMvm(['runner', 'telemetry', '--testbed', testbed, '--device', 'gamma', '--log-level', 'debug'], {
    env: { MVM_LOG_FORMAT: 'json', MVM_TESTBED: undefined },
  });
  t.equal(r.code, 0, r.stderr);
  const logs = r.stderr.split('\n').filter((l) => l.startsWith('{'));
  t.ok(logs.length === 0 || logs.every((l) => typeof JSON.parse(l).level === 'number'));
});

t.test('no mvm process left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

// `mvm runner test` brings devices to the software their spec asks for before the script: from the
// firmware library, or from the spec's own image; not at all when the device is already there; and
// when no image exists or the flash fails, the test fails before its script, clearly.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { DeviceSpec } from '../../runner/drivers/types.js';
import { buildImage } from '../../runner/firmware/image.js';
import { readInfraReport } from '../../runner/infra-report.js';
import { startAxeosSim, type AxeosSim } from '../../sim/axeos/index.js';
import { runTest } from '../../runner/device-tests/run.js';
import { loadSpec, validateSpec } from '../../runner/device-tests/spec.js';
import { ConfigError } from '../../shared/errors.js';
import { runMvm, stopAllMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { writeTestbed } from './support.js';

const env = { MVM_LOG_LEVEL: 'warn', MVM_TESTBED: undefined, MVM_FIRMWARE_DIR: undefined };
const FAST = { request_timeout_ms: 2000, poll_interval_ms: 100, settle_ms: 800, reboot_timeout_ms: 3000 };
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' });

async function gamma(t: Test, faults: string[] = []): Promise<AxeosSim> {
  const sim = await startAxeosSim({ board: '601', firmware: 'v2.15.0', rebootDelayMs: 50, bootMs: 300, faults });
  t.teardown(() => sim.close());
  return sim;
}

const device = (sim: AxeosSim): DeviceSpec => ({
  name: 'gamma',
  driver: 'axeos',
  address: sim.url,
  hardware: '601',
  attributes: [],
  options: FAST,
});

/** A spec whose script leaves a marker, so a test can tell whether it ran. */
function writeSpec(dir: string, deviceLine: string): string {
  const file = join(dir, 'spec.yaml');
  writeFileSync(
    file,
    [
      `script: ["node", "-e", "require('fs').writeFileSync('ran', process.env.MVM_DEVICE_ADDRESS)"]`,
      `devices: [${deviceLine}]`,
    ].join('\n'),
  );
  return file;
}

t.test('flashes the requested software from the library first (CLI); JUnit has the prepare case', async (t) => {
  const sim = await gamma(t);
  const dir = tempDir(t);
  const lib = join(dir, 'firmware');
  mkdirSync(lib);
  writeFileSync(join(lib, 'esp-miner.bin'), buildImage({ version: 'v2.16.0' }));
  const testbed = writeTestbed(dir, { devices: [device(sim)] });
  const spec = writeSpec(dir, '{hardware: "601", software: esp-miner-2.16.0}');
  const out = join(dir, 'out');
  const r = await runMvm(
    ['runner', 'test', '--spec', spec, '--testbed', testbed, '--output', out, '--firmware-dir', lib],
    { env, timeoutMs: 60_000 },
  );
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /ok {3}prepare gamma: flashed v2\.16\.0 \(was v2\.15\.0\) from .*esp-miner\.bin/);
  t.equal(sim.device.version, 'v2.16.0');
  t.ok(existsSync(join(dir, 'ran')), 'the script ran after the flash');
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  t.match(results.preparation, [
    { spec: 'device0', device: 'gamma', from: 'v2.15.0', to: 'v2.16.0', ok: true, durationMs: Number },
  ]);
  const suite = xml.parse(readFileSync(join(out, 'junit.xml'), 'utf8')).testsuites.testsuite;
  t.equal(suite.testcase[0].name, 'prepare gamma');
  t.equal(suite.failures, '0');
});

t.test("flashes the spec's own image; a device already on the version is not flashed", async (t) => {
  const sim = await gamma(t);
  const dir = tempDir(t);
  mkdirSync(join(dir, 'build'));
  writeFileSync(join(dir, 'build', 'fw.bin'), buildImage({ version: 'v2.17.0-3-gabc' }));
  writeFileSync(join(dir, 'build', 'fw.bin.json'), JSON.stringify({ family: 'bitaxe' })); // as the CI build states it
  const spec = loadSpec(writeSpec(dir, '{name: miner, software: v2.17.0-3-gabc, image: build/fw.bin}'));
  t.equal(spec.devices[0].image, join(dir, 'build', 'fw.bin'), 'relative to the definition');
  const first = await runTest({ spec, devices: [device(sim)], outputDir: join(dir, 'o1'), echo: null });
  t.equal(first.ok, true, JSON.stringify(first.preparation));
  t.match(first.preparation, [
    { spec: 'miner', from: 'v2.15.0', to: 'v2.17.0-3-gabc', ok: true, image: join(dir, 'build', 'fw.bin') },
  ]);
  t.equal(sim.device.version, 'v2.17.0-3-gabc');

  const boots = sim.device.bootCount;
  const second = await runTest({ spec, devices: [device(sim)], outputDir: join(dir, 'o2'), echo: null });
  t.equal(second.ok, true);
  t.match(second.preparation, [{ ok: true, message: 'already at v2.17.0-3-gabc', from: 'v2.17.0-3-gabc' }]);
  t.equal(sim.device.bootCount, boots, 'not flashed again');
});

t.test('no image, or an image of another version: the test fails before its script, clearly', async (t) => {
  const sim = await gamma(t);
  const dir = tempDir(t);
  const lib = join(dir, 'firmware');
  mkdirSync(lib);
  writeFileSync(join(lib, 'old.bin'), buildImage({ version: 'v2.9.0' }));
  const testbed = writeTestbed(dir, { firmware_dir: lib, devices: [device(sim)] });
  const spec = writeSpec(dir, '{software: v3.0.0}');
  const out = join(dir, 'out');
  const r = await runMvm(['runner', 'test', '--spec', spec, '--testbed', testbed, '--output', out], { env });
  t.equal(r.code, 1);
  t.match(
    r.stdout,
    /FAIL prepare gamma: no esp-miner v3\.0\.0 image in the firmware library .*firmware: it holds esp-miner v2\.9\.0 \(old\.bin\)/,
  );
  t.match(r.stdout, /not run: preparing the devices failed/);
  t.notOk(existsSync(join(dir, 'ran')), 'the script did not run');
  t.equal(sim.device.version, 'v2.15.0');
  const suite = xml.parse(readFileSync(join(out, 'junit.xml'), 'utf8')).testsuites.testsuite;
  t.match(suite, { tests: '1', failures: '1', errors: '0' }, 'one failed prepare case, no duplicate run error');
  t.notOk(existsSync(join(dir, 'infra-failures.jsonl')), 'a missing image is not an infrastructure failure');

  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'b', 'fw.bin'), buildImage({ version: 'v2.17.0' }));
  const other = loadSpec(writeSpec(join(dir, 'b'), '{software: v2.18.0, image: fw.bin}'));
  const report = await runTest({ spec: other, devices: [device(sim)], outputDir: join(dir, 'o2'), echo: null });
  t.equal(report.ok, false);
  t.match(
    report.preparation[0].message,
    /the image .*fw\.bin carries esp-miner v2\.17\.0, but the test definition \(device device0\) asks for v2\.18\.0/,
  );
  t.equal(report.script, null);
});

t.test('a flash that fails is an infrastructure failure', async (t) => {
  const sim = await gamma(t, ['brick']);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'fw.bin'), buildImage({ version: 'v2.16.0' }));
  writeFileSync(join(dir, 'fw.bin.json'), JSON.stringify({ family: 'bitaxe' }));
  const testbed = writeTestbed(dir, { devices: [device(sim)] });
  const spec = writeSpec(dir, '{software: v2.16.0, image: fw.bin}');
  const r = await runMvm(['runner', 'test', '--spec', spec, '--testbed', testbed, '--output', join(dir, 'out')], {
    env,
    timeoutMs: 60_000,
  });
  t.equal(r.code, 1);
  t.match(r.stdout, /FAIL prepare gamma: flash failed/);
  t.notOk(existsSync(join(dir, 'ran')));
  const entries = readInfraReport(readFileSync(join(dir, 'infra-failures.jsonl'), 'utf8'));
  t.same(
    entries.map((e) => [e.command, e.device, e.reason]),
    [['test', 'gamma', 'needs_attention']],
  );
});

t.test('spec validation: an image needs software, and must exist', async (t) => {
  const dir = tempDir(t);
  const err = t.throws(() =>
    validateSpec(
      { script: ['true'], devices: [{ image: 'missing.bin' }, { software: 'v1', image: 3 }] },
      join(dir, 'x.json'),
    ),
  ) as unknown as ConfigError;
  t.type(err, ConfigError);
  t.match(err.message, /devices\[0\]\.image: no such file .*missing\.bin/);
  t.match(err.message, /devices\[0\]\.image: give software too: the version the image carries/);
  t.match(err.message, /devices\[1\]\.image: must be a file path/);
});

t.test('no mvm process left running', async (t) => {
  t.equal(await stopAllMvm(), 0);
});

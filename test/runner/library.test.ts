// The firmware library (images indexed by their app descriptor, versions matched however they are
// spelled, a listing when the wanted one is missing), where the library is configured, and the
// testbed description's baseline fields (every problem reported with its key).
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../runner/firmware/image.js';
import { findImage, firmwareDirFrom, indexLibrary, requireFirmwareDir } from '../../runner/firmware/library.js';
import { parseTestbed } from '../../runner/testbed.js';
import { baselineFirmware } from '../../runner/testbed-baseline.js';
import { ConfigError, MvmError } from '../../shared/errors.js';
import { tempDir } from '../helpers/tmp.js';

function library(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t);
  // File names deliberately say nothing: the descriptor decides.
  writeFileSync(join(dir, 'a.bin'), buildImage({ version: 'v2.9.0' }));
  writeFileSync(join(dir, 'b.bin'), buildImage({ version: 'v2.16.0-rc1', size: 4096 }));
  writeFileSync(join(dir, 'nerd.bin'), buildImage({ version: 'v1.0.30', projectName: 'esp-miner-nerdqaxeplus' }));
  const merged = Buffer.alloc(0x10000 + 4096, 0xff);
  merged[0] = 0xe9; // a bootloader header, no app descriptor at 0x20
  writeFileSync(join(dir, 'factory-merged.bin'), merged);
  writeFileSync(join(dir, 'notes.bin'), 'not firmware');
  writeFileSync(join(dir, 'README.txt'), 'ignored: not a .bin');
  mkdirSync(join(dir, 'old.bin')); // a folder with a .bin name is skipped, not fatal
  return dir;
}

t.test('indexes app images by descriptor and lists what it skipped', async (t) => {
  const dir = library(t);
  const index = indexLibrary(dir);
  t.same(
    index.images.map((i) => [i.file.slice(dir.length + 1), i.project, i.version]),
    [
      ['a.bin', 'esp-miner', 'v2.9.0'],
      ['b.bin', 'esp-miner', 'v2.16.0-rc1'],
      ['nerd.bin', 'esp-miner-nerdqaxeplus', 'v1.0.30'],
    ],
  );
  t.same(index.skipped.map((s) => s.file).sort(), ['factory-merged.bin', 'notes.bin', 'old.bin']);
  t.match(index.skipped.find((s) => s.file === 'factory-merged.bin')!.reason, /no app descriptor/);
});

t.test('the library records each image family and board, and picks one that fits the device', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'esp-miner-NerdQAxe++.bin'), buildImage({ version: 'v2.9.0' }));
  writeFileSync(join(dir, 'esp-miner-factory-401-v2.9.0.bin'), buildImage({ version: 'v2.9.0' }));
  writeFileSync(join(dir, 'ci-build.bin'), buildImage({ version: 'v2.9.0' }));
  writeFileSync(join(dir, 'stated.bin'), buildImage({ version: 'v2.9.0' }));
  writeFileSync(join(dir, 'stated.bin.json'), JSON.stringify({ family: 'bitaxe', board: '601' }));
  writeFileSync(join(dir, 'broken.bin'), buildImage({ version: 'v2.9.0' }));
  writeFileSync(join(dir, 'broken.bin.json'), '{"family": "antminer"}');
  const index = indexLibrary(dir);
  const byName = Object.fromEntries(index.images.map((i) => [i.file.slice(dir.length + 1), i.identity]));
  t.match(byName['esp-miner-NerdQAxe++.bin'], { family: 'nerdqaxe', board: 'NerdQAxe++', source: 'asset name' });
  t.match(byName['esp-miner-factory-401-v2.9.0.bin'], { family: 'bitaxe', board: '401' });
  t.match(byName['stated.bin'], { family: 'bitaxe', board: '601', source: 'statement' });
  t.equal(byName['ci-build.bin'], undefined, 'unknown family');
  t.match(index.skipped, [{ file: 'broken.bin', reason: /family "antminer" is not one of bitaxe, nerdqaxe/ }]);
  const want = { project: 'esp-miner', version: 'v2.9.0' };
  t.equal(findImage(dir, { ...want, family: 'nerdqaxe', board: 'NerdQAxe++' }), join(dir, 'esp-miner-NerdQAxe++.bin'));
  t.equal(
    findImage(dir, { ...want, family: 'bitaxe', board: '601' }),
    join(dir, 'stated.bin'),
    'never the 401 factory image or a NerdQAxe one',
  );
  t.equal(findImage(dir, { ...want, family: 'bitaxe', board: '401' }), join(dir, 'esp-miner-factory-401-v2.9.0.bin'));
});

t.test('findImage matches any spelling of a version, per project', async (t) => {
  const dir = library(t);
  for (const v of ['esp-miner-2.9.0', 'v2.9.0', '2.9.0', ' V2.9.0 '])
    t.equal(findImage(dir, { project: 'esp-miner', version: v }), join(dir, 'a.bin'), v);
  t.equal(findImage(dir, { project: 'esp-miner', version: '2.16.0-rc1' }), join(dir, 'b.bin'));
  t.equal(findImage(dir, { project: 'esp-miner-nerdqaxeplus', version: '1.0.30' }), join(dir, 'nerd.bin'));
  const err = t.throws(() => findImage(dir, { project: 'esp-miner', version: 'v2.8.0' })) as unknown as MvmError;
  t.equal(err.code, 'NOT_FOUND');
  t.match(err.message, `no esp-miner v2.8.0 image in the firmware library ${dir}`);
  t.match(err.message, /it holds esp-miner v2\.9\.0 \(a\.bin\), esp-miner v2\.16\.0-rc1 \(b\.bin\)/);
  t.match(err.message, /skipped as not app images: factory-merged\.bin \(no app descriptor/);
  t.match(err.hint, /put the esp-miner app image of v2\.8\.0/);
  // The project matters: a NerdQAxe image does not stand in for an esp-miner one.
  t.throws(() => findImage(dir, { project: 'esp-miner', version: 'v1.0.30' }), /no esp-miner v1\.0\.30 image/);
  t.throws(() => findImage(join(dir, 'missing'), { project: 'esp-miner', version: '1' }), {
    code: 'CONFIG_INVALID',
    message: /cannot read the firmware library .*ENOENT/,
  });
});

t.test("the library folder: --firmware-dir, else the testbed's firmware_dir, else MVM_FIRMWARE_DIR", async (t) => {
  const env = { MVM_FIRMWARE_DIR: '/lab/env' };
  t.equal(firmwareDirFrom({ flag: '/lab/flag', testbed: '/lab/testbed', env }), '/lab/flag');
  t.equal(firmwareDirFrom({ testbed: '/lab/testbed', env }), '/lab/testbed');
  t.equal(firmwareDirFrom({ env }), '/lab/env');
  t.equal(firmwareDirFrom({ env: {} }), undefined);
  t.throws(() => requireFirmwareDir(undefined, 'gamma must be flashed to v2.9.0'), {
    message: /gamma must be flashed to v2\.9\.0, but no firmware library is configured/,
    hint: /--firmware-dir DIR, set firmware_dir in the testbed description, or set MVM_FIRMWARE_DIR/,
  });
});

t.test('testbed baseline fields: parsed, and every problem reported with its key', async (t) => {
  const tb = parseTestbed(
    JSON.stringify({
      version: 1,
      testbed: 'bench-1',
      baseline: 'v2.9.0',
      firmware_dir: '/var/lib/mvm/firmware',
      future_key: 'ignored',
      devices: [
        {
          name: 'gamma',
          driver: 'axeos',
          address: 'http://127.0.0.1:1',
          pools: [
            { url: 'stratum+tcp://pool.lab:3333', user: 'bc1q.gamma', password: 'x' },
            { url: 'stratum+tcp://backup.lab:3334', user: 'bc1q.gamma' },
          ],
          settings: { mode: 'eco', fan: 60 },
          expected_hashrate_ghs: 1100,
        },
        { name: 'nano', driver: 'cgminer', address: '127.0.0.1:4028', software: '25021401' },
      ],
    }),
    'tb.json',
  );
  t.equal(tb.firmwareDir, '/var/lib/mvm/firmware');
  const [gamma, nano] = tb.devices;
  t.same(gamma.pools, [
    { url: 'stratum+tcp://pool.lab:3333', user: 'bc1q.gamma', password: 'x' },
    { url: 'stratum+tcp://backup.lab:3334', user: 'bc1q.gamma', password: undefined },
  ]);
  t.same(gamma.settings, { mode: 'eco', fan: 60 });
  t.equal(gamma.expectedHashrateGhs, 1100);
  t.equal(baselineFirmware(gamma, tb), 'v2.9.0', 'the testbed baseline');
  t.equal(baselineFirmware(nano, tb), '25021401', "the device's own software wins");

  const err = t.throws(() =>
    parseTestbed(
      JSON.stringify({
        version: 1,
        testbed: 'bad',
        firmware_dir: 'relative/firmware',
        devices: [
          {
            name: 'gamma',
            driver: 'axeos',
            address: 'http://127.0.0.1:1',
            pools: [{ url: 'pool.lab', user: '' }, 'x'],
            settings: { mode: 'ludicrous', frequency: 5000, voltage: 1.2, fan: -1 },
            expected_hashrate_ghs: 0,
          },
          { name: 'nano', driver: 'cgminer', address: '127.0.0.1:4028', pools: [], settings: 'eco' },
        ],
      }),
      'bad.json',
    ),
  ) as unknown as ConfigError;
  t.type(err, ConfigError);
  const keys = err.problems.map((p) => p.key);
  t.same(keys.sort(), [
    'devices[0].expected_hashrate_ghs',
    'devices[0].pools[0].url',
    'devices[0].pools[0].user',
    'devices[0].pools[1]',
    'devices[0].settings.fan',
    'devices[0].settings.frequency',
    'devices[0].settings.mode',
    'devices[0].settings.voltage',
    'devices[1].pools',
    'devices[1].settings',
    'firmware_dir',
  ]);
  t.match(err.message, /devices\[0\]\.pools\[0\]\.url: pool "pool\.lab": needs a host and a port/);
  t.match(err.message, /devices\[0\]\.settings\.frequency: must be a whole number of MHz from 50 to 1500, got 5000/);
  t.match(
    err.message,
    /devices\[0\]\.settings\.mode: unknown mode "ludicrous"\n\s+hint: modes: eco, standard, turbo, oc/,
  );
  t.match(err.message, /firmware_dir: must be an absolute folder path, got "relative\/firmware"/);
});

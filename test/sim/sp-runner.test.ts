// `mvm sim sp-runner`: the simulated SP tool the demo's SP testbed drives through the command
// driver — its operations, its state file, and its errors.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from '../../runner/firmware/image.js';
import { runMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

t.test('operations keep the SP state in the --config file', async (t) => {
  const dir = tempDir(t);
  const state = join(dir, 'sp.json');
  const sp = (...args: string[]) => runMvm(['sim', 'sp-runner', '--config', state, ...args]);
  t.match(JSON.parse((await sp('info')).stdout), { hardware: 'grapefruit', firmwareVersion: 'v16', boots: 1 });
  t.match((await sp('restore', 'v17')).stdout, 'restored v17 (was v16)');
  t.match((await sp('restore', 'v17')).stdout, 'already at v17');
  writeFileSync(join(dir, 'sp.bin'), 'v18\nimage body');
  t.same(JSON.parse((await sp('flash', join(dir, 'sp.bin'))).stdout), { version: 'v18' });
  writeFileSync(join(dir, 'app.bin'), buildImage({ version: 'v19', projectName: 'hubris' }));
  t.same(
    JSON.parse((await sp('flash', join(dir, 'app.bin'))).stdout),
    { version: 'v19' },
    'an ESP32-style image carries its version in its descriptor',
  );
  t.match(JSON.parse((await sp('info')).stdout), { firmwareVersion: 'v19', boots: 4 });
  t.match((await sp('health')).stdout, /grapefruit SP answers on v19/);
  t.match(JSON.parse((await sp('telemetry')).stdout), { firmwareVersion: 'v19', temperatures: { sp: Number } });
  const bad = await sp('frobnicate');
  t.equal(bad.code, 2);
  t.match(
    bad.stderr,
    /no operation "frobnicate"\n  hint: operations: info, telemetry, health, restart, flash IMAGE, restore BASELINE/,
  );
  writeFileSync(join(dir, 'junk.bin'), 'no version here');
  t.match((await sp('flash', join(dir, 'junk.bin'))).stderr, /is not an SP image/);
  writeFileSync(state, '{not json');
  const broken = await sp('info');
  t.equal(broken.code, 1);
  t.match(broken.stderr, /is not JSON.*\n  hint: delete it/);
});

// The command driver (SP testbeds: sp-runner, humility, esptool) against a stand-in tool: argv
// arrays only (shell metacharacters arrive literally), captured output, timeouts, typed failures.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { CommandDriver } from '../../runner/drivers/command/driver.js';
import { DriverError } from '../../runner/drivers/errors.js';
import { execArgv } from '../../shared/exec.js';
import { buildImage } from '../../runner/firmware/image.js';
import { flashDevice } from '../../runner/flash.js';
import { tempDir } from '../helpers/tmp.js';

/** A fake sp-runner: logs its argv, answers JSON for info/telemetry, fails or hangs on request. */
function fakeTool(dir: string): string {
  const tool = join(dir, 'sp-runner');
  writeFileSync(
    tool,
    `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(join(dir, 'calls.log'))}, JSON.stringify(args) + '\\n');
const op = args[args.indexOf('--config') + 2];
if (op === 'info') console.log(JSON.stringify({ model: 'gimlet-sp', version: 'sp-1.2.3' }));
else if (op === 'telemetry') console.log(JSON.stringify({ hashrateGhs: null, powerW: 41.5, temperatures: { sp: 47 }, uptimeS: 99, firmwareVersion: 'sp-1.2.3' }));
else if (op === 'restart') console.log('power cycled');
else if (op === 'flash') { const img = fs.readFileSync(args[args.length - 1]); console.log(JSON.stringify({ version: img.subarray(0x30, 0x40).toString('latin1').replace(/\\0.*$/, '') })); }
else if (op === 'pause') { console.error('sp-runner: pause is not supported on this SP'); process.exit(3); }
else if (op === 'hang') setTimeout(() => {}, 60000);
else console.log('ok ' + args.join(' '));
`,
  );
  chmodSync(tool, 0o755);
  return tool;
}

t.test('operations run the tool with argv arrays and read its JSON', async (t) => {
  const dir = tempDir(t);
  const tool = fakeTool(dir);
  const d = new CommandDriver({
    name: 'sp',
    driver: 'command',
    address: '',
    hardware: 'gimlet',
    options: { path: tool, config: join(dir, 'sp.toml'), operations: { restart: ['restart', '--target', '{name}'] } },
  });
  const info = await d.info();
  t.same(
    { model: info.model, hardware: info.hardware, firmwareVersion: info.firmwareVersion },
    { model: 'gimlet-sp', hardware: 'gimlet', firmwareVersion: 'sp-1.2.3' },
  );
  const tel = await d.telemetry();
  t.equal(tel.powerW, 41.5);
  t.same(tel.temperatures, { sp: 47 });
  t.equal(tel.uptimeS, 99);
  t.match((await d.control({ op: 'restart' })).message, /power cycled/);
  const mode = await d.control({ op: 'mode', mode: 'eco' });
  t.match(mode.message, /ok --config .* mode eco/);
  const pools = await d.control({
    op: 'pools-set',
    pools: [{ url: 'stratum+tcp://x:1; rm -rf /', user: '$(whoami)' }],
  });
  t.match(pools.message, /\$\(whoami\)/, 'metacharacters arrive literally: no shell');
  const err = await d.control({ op: 'pause' }).catch((e: unknown) => e);
  t.type(err, DriverError);
  t.equal((err as DriverError).reason, 'refused');
  t.match((err as Error).message, /exit 3: sp-runner: pause is not supported/);

  const file = join(dir, 'sp.bin');
  writeFileSync(file, buildImage({ version: 'sp-2.0.0', projectName: 'hubris' }));
  const flashed = await flashDevice({ driver: d, imageFile: file });
  t.equal(flashed.version, 'sp-2.0.0');
  const calls = readFileSync(join(dir, 'calls.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as string[]);
  t.same(calls[0], ['--config', join(dir, 'sp.toml'), 'info']);
  t.same(calls[2], ['--config', join(dir, 'sp.toml'), 'restart', '--target', 'sp']);
  const flashCall = calls[calls.length - 1];
  t.equal(flashCall[2], 'flash');
  t.notOk(existsSync(flashCall[3]), 'the temporary image is removed afterwards');
});

t.test('timeouts stop the tool and its children; a missing tool is unreachable', async (t) => {
  const dir = tempDir(t);
  const tool = fakeTool(dir);
  const d = new CommandDriver({
    name: 'sp',
    driver: 'command',
    address: '',
    options: { path: tool, config: 'c', operations: { info: ['hang'] } },
  });
  const started = Date.now();
  const err = await d.info({ timeoutMs: 300 }).catch((e: unknown) => e);
  t.equal((err as DriverError).reason, 'timeout');
  t.ok(Date.now() - started < 5000, `bounded (${Date.now() - started} ms)`);
  const missing = new CommandDriver({
    name: 'sp',
    driver: 'command',
    address: '',
    options: { path: join(dir, 'nope') },
  });
  const e2 = await missing.info().catch((e: unknown) => e);
  t.equal((e2 as DriverError).reason, 'unreachable');
  t.match((e2 as DriverError).hint, /options\.path/);
  t.throws(() => new CommandDriver({ name: 'sp', driver: 'command', address: '', options: {} }), /needs options\.path/);
  t.throws(
    () => new CommandDriver({ name: 'sp', driver: 'command', address: '', options: { argv: 'sp-runner --x' } }),
    /needs options\.path/,
  );
  t.throws(
    () => new CommandDriver({ name: 'sp', driver: 'command', address: '', options: { argv: ['ok', 3] } }),
    /array of strings/,
  );
});

t.test('execArgv: abort stops the process group', async (t) => {
  const ctl = new AbortController();
  const p = execArgv(
    [
      process.execPath,
      '-e',
      'require("node:child_process").spawn(process.execPath, ["-e", "setTimeout(()=>{}, 60000)"], {stdio: "inherit"}); setTimeout(()=>{}, 60000)',
    ],
    { signal: ctl.signal, killGraceMs: 200 },
  );
  setTimeout(() => ctl.abort(), 100);
  const r = await p;
  t.equal(r.aborted, true);
  t.throws(() => execArgv([]), TypeError);
});

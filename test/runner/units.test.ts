// Small pure pieces of the command line: control words, progress output, the human telemetry line,
// the testbed description's validation and device selection.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseControl } from '../../runner/control.js';
import { jsonLinesSink, linesSink, progressSink, ttySink } from '../../runner/progress.js';
import { formatHashrate, formatTelemetry } from '../../runner/cli/telemetry.js';
import { parseOptionPairs } from '../../runner/cli/common.js';
import { parseTestbed, selectDevice } from '../../runner/testbed.js';
import { ConfigError } from '../../shared/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/mvm-process.js';
import { setTimeout as sleepMs } from 'node:timers/promises';

function capture(): { stream: Writable & { columns: number }; text: () => string } {
  let out = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    }),
    { columns: 80 },
  );
  return { stream, text: () => out };
}

t.test('control words', async (t) => {
  t.same(parseControl(['restart']), { op: 'restart' });
  t.same(parseControl(['mode', 'turbo']), { op: 'mode', mode: 'turbo' });
  t.same(parseControl(['frequency', '525']), { op: 'frequency', mhz: 525 });
  t.same(parseControl(['voltage', '1150']), { op: 'voltage', mv: 1150 });
  t.same(parseControl(['fan', '80']), { op: 'fan', percent: 80 });
  t.same(parseControl(['pools', 'switch', '1']), { op: 'pools-switch', index: 1 });
  t.same(parseControl(['pools', 'priority', '2', '0']), { op: 'pools-priority', order: [2, 0] });
  t.same(parseControl(['mode', 'Low']), { op: 'mode', mode: 'low' }, 'Avalon mode names too');
  t.same(parseControl(['pools', 'set'], { url: ['stratum+tcp://a:1', 'b:2'], user: ['u1', 'u2'], password: ['p1'] }), {
    op: 'pools-set',
    pools: [
      { url: 'stratum+tcp://a:1', user: 'u1', password: 'p1' },
      { url: 'b:2', user: 'u2', password: undefined },
    ],
  });
  for (const [words, re] of [
    [['mode', 'ludicrous'], /expected one of eco, standard, turbo, oc/],
    [['frequency', '5x'], /whole number/],
    [['restart', 'now'], /unexpected "now"/],
    [['pools'], /expected "set", "switch" or "priority"/],
    [['pools', 'priority', '1', '1'], /named twice/],
    [['pools', 'switch'], /got nothing/],
    [[], /name an action/],
  ] as const) {
    t.throws(() => parseControl([...words]), { code: 'USAGE', message: re });
  }
  t.throws(() => parseControl(['pools', 'set'], { url: ['a:1'], user: [] }), /one --user per --pool-url/);
});

t.test('progress: JSON lines off a terminal, a bar on one', async (t) => {
  const json = capture();
  const sink = jsonLinesSink(json.stream, 'gamma');
  sink.event({ phase: 'validate', message: 'ok' });
  for (let sent = 0; sent <= 1000; sent += 1) sink.event({ phase: 'upload', sent, total: 1000 });
  sink.event({ phase: 'done', message: 'running v2' });
  const lines = json
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.equal(lines.filter((l) => l.phase === 'upload').length, 101, 'one line per percent');
  t.same(lines[lines.length - 1], { event: 'progress', device: 'gamma', phase: 'done', message: 'running v2' });
  let now = 0;
  const tty = capture();
  const bar = ttySink(tty.stream, 'gamma', { now: () => now, everyMs: 20 });
  bar.event({ phase: 'upload', sent: 64 * 1024, total: 1024 * 1024 });
  now = 2_000;
  bar.event({ phase: 'upload', sent: 512 * 1024, total: 1024 * 1024 });
  t.match(
    tty.text(),
    /\rgamma: upload \[#+\.+\] 50% \(512\/1024 KiB, 256 KiB\/s, ETA 2 s\)\x1b\[K$/,
    'the bar redrawn with rate and ETA',
  );
  bar.event({ phase: 'reboot', message: 'rebooting' });
  t.match(tty.text(), /\ngamma: reboot: rebooting\n$/);
  await waitFor(
    () => /\rgamma: waiting for the device to come back: \d+ s\x1b\[K$/.test(tty.text()),
    'the elapsed time redrawn during the reboot',
  );
  bar.event({ phase: 'done', message: 'running v2' });
  bar.end();
  t.match(tty.text(), /\x1b\[K\ngamma: done: running v2\n$/, 'the elapsed line ends before the next phase');
  const after = tty.text();
  await sleepMs(60);
  t.equal(tty.text(), after, 'the ticker stopped');
});

t.test('progress in a log (no terminal, no --json): plain lines, JSON only with --json', async (t) => {
  let now = 0;
  const log = capture();
  const sink = linesSink(log.stream, 'gamma', { now: () => now, everyMs: 10_000 });
  for (let sent = 0; sent <= 1024 * 1024; sent += 4096) {
    now += 100; // 40 KiB/s: 25.6 s for the MiB
    sink.event({ phase: 'upload', sent, total: 1024 * 1024 });
  }
  sink.event({ phase: 'reboot', message: 'waiting for the device' });
  sink.end();
  const lines = log.text().trim().split('\n');
  t.same(
    lines.filter((l) => l.startsWith('gamma: upload ')),
    [
      'gamma: upload 0% (0/1024 KiB)',
      'gamma: upload 39% (400/1024 KiB, 40 KiB/s, ETA 16 s)',
      'gamma: upload 78% (800/1024 KiB, 40 KiB/s, ETA 6 s)',
      'gamma: upload 100% (1024/1024 KiB, 40 KiB/s, done)',
    ],
    'rate and ETA every 10 s, and the end',
  );
  t.equal(lines[lines.length - 1], 'gamma: reboot: waiting for the device');
  t.notMatch(log.text(), /[{\r]/, 'no JSON, no carriage returns');
  const waits = capture();
  const waiting = linesSink(waits.stream, 'gamma', { everyMs: 20 });
  waiting.event({ phase: 'upload', sent: 1024, total: 1024 });
  await waitFor(
    () => /^gamma: waiting for the device to take the image: \d+ s$/m.test(waits.text()),
    'an elapsed-time line while the device writes the image',
  );
  waiting.event({ phase: 'reboot', message: 'rebooting' });
  await waitFor(
    () => /^gamma: waiting for the device to come back: \d+ s$/m.test(waits.text()),
    'an elapsed-time line while the device reboots',
  );
  waiting.event({ phase: 'verify', message: 'running v2' });
  const after = waits.text();
  await sleepMs(60);
  t.equal(waits.text(), after, 'no elapsed line once the device is back');
  t.notMatch(after, /[{\r]/);
  const notTty = Object.assign(capture().stream, { isTTY: false }) as unknown as NodeJS.WriteStream;
  const json = capture();
  progressSink('gamma', true, notTty, json.stream).event({ phase: 'done', message: 'ok' });
  t.match(JSON.parse(json.text()), { event: 'progress', phase: 'done' }, '--json: JSON lines');
  const plain = capture();
  const plainStream = Object.assign(plain.stream, { isTTY: false }) as unknown as NodeJS.WriteStream;
  progressSink('gamma', false, plainStream, json.stream).event({ phase: 'done', message: 'ok' });
  t.equal(plain.text(), 'gamma: done: ok\n', 'no --json, no terminal: a line for a person');
});

t.test('the human telemetry line', async (t) => {
  const line = formatTelemetry({
    device: 'gamma',
    driver: 'axeos',
    at: '2026-11-23T09:00:00.000Z',
    online: true,
    hashrateGhs: 1000,
    expectedHashrateGhs: 1250,
    powerW: 18.2,
    efficiencyJth: 18.2,
    temperatures: { chip: 58.4 },
    fans: [{ name: 'fan1', rpm: 3500, percent: 40 }],
    sharesAccepted: 10,
    sharesRejected: 1,
    uptimeS: 60,
    firmwareVersion: 'v2.15.0',
    paused: false,
    raw: {},
  });
  t.match(
    line,
    /gamma:\s+1000\/1250 GH\/s \(80 %\)\s+18\.2 W\s+18\.2 J\/TH\s+chip 58\.4°C\s+fan1 3500rpm 40%\s+shares 10\/1/,
  );
  t.equal(formatHashrate(0.00011313, null), '113.13/? kH/s', 'an NMMiner in kH/s, not 0 GH/s');
  t.equal(formatHashrate(0.0010154, null), '1.02/? MH/s');
  t.equal(formatHashrate(null, null), '?/? GH/s');
});

t.test('testbed descriptions: validated, devices selected', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'testbed.json');
  const bed = {
    version: 1,
    testbed: 'sp-1',
    devices: [
      {
        name: 'sp',
        driver: 'command',
        hardware: 'gimlet',
        options: { path: '/opt/sp-runner', config: '/etc/sp.toml' },
      },
    ],
  };
  writeFileSync(file, JSON.stringify(bed));
  const { device } = selectDevice({
    testbed: file,
    options: parseOptionPairs(['timeout_ms=1000', 'argv=["-v"]', 'name=x=y']),
  });
  t.equal(device.name, 'sp', 'the only device by default');
  t.equal(device.address, '');
  t.same(device.options, {
    path: '/opt/sp-runner',
    config: '/etc/sp.toml',
    timeout_ms: 1000,
    argv: ['-v'],
    name: 'x=y',
  });
  const direct = selectDevice({ driver: 'cgminer', address: '127.0.0.1:4028' });
  t.equal(direct.device.name, '127.0.0.1:4028');
  t.throws(() => selectDevice({ driver: 'cgminer' }), { code: 'USAGE', message: /both --driver and --address/ });
  t.throws(() => selectDevice({ driver: 'cgminer', address: 'http://x' }), /expected HOST:PORT/);
  t.throws(() => selectDevice({ testbed: join(dir, 'none.json') }), /cannot read the testbed description/);
  t.throws(() => parseOptionPairs(['novalue']), /KEY=VALUE/);
  const err = t.throws(() =>
    parseTestbed(
      JSON.stringify({
        version: 1,
        testbed: 'x',
        devices: [
          { name: 'a', driver: 'axeos', address: 'http://h' },
          { name: 'a', driver: 'nmminer', address: 'h:x', attributes: [1] },
        ],
      }),
      'tb.json',
    ),
  ) as unknown as ConfigError;
  t.same(err.problems.map((p) => p.key).sort(), ['devices[1].address', 'devices[1].attributes', 'devices[1].name']);
});

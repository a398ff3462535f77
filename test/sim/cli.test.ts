// `mvm sim` usage: every bad input is a clear usage error (exit 2) naming what is wrong and how to fix it.
import t from 'tap';
import { runMvm } from '../helpers/mvm-process.js';

t.test('usage errors', async (t) => {
  const cases: [string[], RegExp][] = [
    [['sim'], /name a simulator: axeos, cgminer, nmminer, lab, octopus, sp-runner or serial-flash/],
    [['sim', 'axeos', '--board', '999'], /unknown board "999"[\s\S]*hint: known boards: 102/],
    [['sim', 'axeos', '--listen', '10.0.0.1:80'], /loopback only[\s\S]*hint: use 127\.0\.0\.1/],
    [['sim', 'axeos', '--listen', 'nonsense:port'], /invalid listen address/],
    [['sim', 'cgminer', '--fault', 'drop=3'], /ratio between 0 and 1/],
    [['sim', 'cgminer', '--model', 'q'], /Invalid values/],
    [['sim', 'nmminer', '--fault', 'slow=abc'], /needs a non-negative number/],
    [['sim', 'serial-flash', '--address', 'http://127.0.0.1:1'], /Missing required argument: image/],
  ];
  for (const [args, re] of cases) {
    const r = await runMvm(args);
    t.equal(r.code, 2, `${args.join(' ')} exits 2`);
    t.match(r.stderr, re, args.join(' '));
  }
});

t.test('serial-flash to an address nobody listens on fails clearly', async (t) => {
  const r = await runMvm(['sim', 'serial-flash', '--address', 'http://127.0.0.1:1', '--image', '/dev/null']);
  t.equal(r.code, 3, 'unreachable: exit 3');
  t.match(r.stderr, /cannot reach the serial line of http:\/\/127\.0\.0\.1:1/);
});

// Loaded (node --import) into every test process of the unit tier: a unit test runs in-process, so
// starting the compiled CLI (bin/mvm.js, anything under dist/) or one of the real peers (sshd,
// Chromium, Mosquitto) is refused with the file's name and what to do. Bash, git and other small
// tools stay allowed: a task script is part of the code under test.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const FORBIDDEN = [
  { re: /(^|\/)bin\/mvm\.js\b/, what: 'the compiled CLI (bin/mvm.js)' },
  { re: /(^|\/)dist\//, what: 'compiled code under dist/' },
  { re: /(^|\/)sshd$/, what: 'sshd' },
  { re: /(^|\/)chromium(-browser)?$/, what: 'Chromium' },
  { re: /(^|\/)mosquitto$/, what: 'Mosquitto' },
];

const testFile = process.argv[1] ?? 'this test file';

function check(command, args) {
  const words = [command, ...(Array.isArray(args) ? args : [])].filter((w) => typeof w === 'string');
  for (const w of words) {
    for (const f of FORBIDDEN) {
      if (f.re.test(w) || (w.includes(' ') && w.split(/\s+/).some((part) => f.re.test(part)))) {
        const msg =
          `unit tier: ${testFile} started ${f.what} (${words.join(' ').slice(0, 200)}). ` +
          'Unit tests run in-process; remove this file from the unit list in test/tiers/tiers.mjs ' +
          '(it still runs in `npm test` and `npm run test:fast`).';
        process.stderr.write(msg + '\n');
        throw new Error(msg);
      }
    }
  }
}

for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'fork']) {
  const original = childProcess[name];
  childProcess[name] = function guarded(command, args, ...rest) {
    check(
      name === 'fork' ? process.execPath : command,
      name === 'fork' ? [command, ...(Array.isArray(args) ? args : [])] : args,
    );
    return original.call(this, command, args, ...rest);
  };
}
for (const name of ['exec', 'execSync']) {
  const original = childProcess[name];
  childProcess[name] = function guarded(command, ...rest) {
    check(command, []);
    return original.call(this, command, ...rest);
  };
}
syncBuiltinESMExports();

// Local inputs are bounded: a config that is /dev/zero or a FIFO, a test definition of 22 MB, a
// window of 99999999h, a timeout of 0s and an environment too large for exec are each refused at
// once with the file or key and the limit — not a 4 GB read, a hang, minutes of parsing, a
// testbed held for hours or a bare `spawn E2BIG`.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTask } from '../../agent/task.js';
import { silentLogger } from '../../shared/log.js';
import { runMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

const spec = (extra: string) => `script: ["true"]\ndevices:\n  - hardware: "601"\n${extra}`;

t.test('configs that are not regular files, or too large, are refused at once', async (t) => {
  const dir = tempDir(t);
  const zero = await runMvm(['factory', '-f', '/dev/zero', '--check'], { timeoutMs: 30_000 });
  t.equal(zero.code, 1, '/dev/zero: exit 1, not a 4 GB read');
  t.match(zero.stderr, /the config file \/dev\/zero is a character device, not a regular file/);

  const fifo = join(dir, 'factory.toml');
  execFileSync('mkfifo', [fifo]);
  const f = await runMvm(['factory', '-f', fifo, '--check'], { timeoutMs: 30_000 });
  t.equal(f.code, 1, 'a FIFO: exit 1, not a hang');
  t.match(f.stderr, /is a FIFO, not a regular file/);

  const big = join(dir, 'big.toml');
  writeFileSync(big, '# filler\n'.repeat(600_000));
  const b = await runMvm(['factory', '-f', big, '--check'], { timeoutMs: 30_000 });
  t.equal(b.code, 1);
  t.match(b.stderr, /is 5400000 bytes; the limit is 4194304 bytes/);
});

t.test('test definitions: size, windows and timeouts bounded, each with its key', async (t) => {
  const dir = tempDir(t);
  const huge = join(dir, 'huge.yaml');
  writeFileSync(huge, spec('checks:\n' + '  - type: temperature\n    max: 80\n'.repeat(700_000)));
  const h = await runMvm(['runner', 'test', '--spec', huge], { timeoutMs: 30_000 });
  t.equal(h.code, 1, 'a 22 MB definition is refused before parsing');
  t.match(h.stderr, /the test definition .*huge\.yaml is \d+ bytes; the limit is 1048576 bytes/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    spec(
      'timeout: 0s\npoll: 0s\nchecks:\n  - type: temperature\n    max: 80\n    window: 99999999h\n  - type: survives_restart\n    timeout: 0\n',
    ),
  );
  const r = await runMvm(['runner', 'test', '--spec', bad], { timeoutMs: 30_000 });
  t.equal(r.code, 1);
  t.match(
    r.stderr,
    /checks\[0\]\.window.*"99999999h" is longer than 24d, the longest instance_deadline a factory allows/,
  );
  t.match(r.stderr, /: timeout: is too short \(0 ms\); the minimum is 1 ms/);
  t.match(r.stderr, /: poll: is too short \(0 ms\); the minimum is 100 ms/);
  t.match(r.stderr, /checks\[1\]\.timeout: is too short \(0 ms\)/);

  const cfg = join(dir, 'factory.toml');
  writeFileSync(
    cfg,
    '[general]\nbaseurl = "http://127.0.0.1:1"\n[factory]\ntoken = "x"\ninstance_deadline = "99999999h"\n[target.a]\n[testbed.b]\ntargets = ["a"]\n',
  );
  const c = await runMvm(['factory', '-f', cfg, '--check'], { timeoutMs: 30_000 });
  t.equal(c.code, 1);
  t.match(c.stderr, /factory\.instance_deadline.*is too long \("99999999h"\); the maximum is 24d/);
});

t.test('an environment too large for exec is reported with its size and what to do', async (t) => {
  const dir = tempDir(t);
  const env: Record<string, string> = { PATH: process.env.PATH! };
  for (let i = 0; i < 20_000; i++) env[`V${i}`] = 'x'.repeat(200);
  const notes: string[] = [];
  const res = await runTask(
    { job: 'J', task: 0, script: 'echo never', scriptFile: join(dir, 'task.sh'), cwd: dir, env },
    {
      agentDir: dir,
      onLine: () => undefined,
      onNote: (m) => notes.push(m),
      signal: new AbortController().signal,
      graceMs: 1000,
      log: silentLogger(),
    },
  );
  t.equal(res.exitCode, 127);
  t.match(
    notes.join('\n'),
    /exec error: could not start the task: its environment is too large for exec \(E2BIG\): 20001 variables, \d+ bytes in all.*pass large data as an input file instead/,
  );
});

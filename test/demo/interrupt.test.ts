// Ctrl-C of `mvm demo` during its sample job: "stopping" came at once, but the
// demo took about a minute to exit — the factory drained the running job, and closing the embedded
// job server waited for connections a long poll had held. Now it exits within a few seconds, with
// nothing of it left running.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { startMvm, waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

function leftovers(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')))
        out.push(`${pid}: ${cmd.trim()}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

t.test('Ctrl-C while the sample job runs: the demo exits within seconds', async (t) => {
  const dir = tempDir(t, 'mvm-demo-int-');
  const demo = startMvm(['demo', '--data', dir, '--listen', '127.0.0.1:0', '--free-ports'], {
    env: { MVM_LOG_LEVEL: 'warn' },
  });
  t.teardown(() => demo.stop(30_000));
  await demo.waitForLine(/task\.0 +starting task 0/, 180_000);
  demo.child.kill('SIGINT');
  let code: number | string | undefined;
  void demo.exited.then((c) => (code = c));
  await waitFor(() => code !== undefined, 'the demo to exit after Ctrl-C', 15_000, 50);
  t.equal(code, 0, 'a clean exit');
  t.match(demo.stdout.at(-1), /mvm demo: stopped/);
  await waitFor(() => leftovers(dir).length === 0, 'nothing of the demo left running', 10_000).catch(() => undefined);
  t.same(leftovers(dir), [], 'nothing of the demo is left running');
});

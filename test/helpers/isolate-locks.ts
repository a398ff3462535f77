// Every test process gets its own testbed lock directory (inherited by the processes it starts),
// so factories of tests running at once never see each other's testbeds of the same name.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (!process.env.MVM_TESTBED_LOCKS) {
  const dir = mkdtempSync(join(tmpdir(), 'mvm-test-locks-'));
  process.env.MVM_TESTBED_LOCKS = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}

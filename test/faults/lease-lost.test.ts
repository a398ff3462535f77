// Fault: the server restarted while an agent is still coming up. Leases live in the server's
// memory (as in buildomat), so the restart forgets the lease of a job whose worker exists but has
// not bootstrapped yet; the job itself is still queued and still meant for that worker (the
// server prefers the job a worker was leased for). The factory must not read the refused lease
// renewal as "the job went elsewhere": the job must run once, on the instance that was already
// starting for it — not be stopped and placed again. (It leases the target again and gets the job
// back.)
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { agentProcessStarted, gatedAgentCommand, startFaultLab } from './lib/stack.js';

t.test('server restarted while an agent starts: the job runs once, on the instance made for it', async (t) => {
  // The agent command waits for a gate file before exec'ing the real agent: a slow agent start.
  const dir = tempDir(t, 'mvm-slow-agent-');
  const go = join(dir, 'go');
  const runs = join(dir, 'runs');
  const slow = gatedAgentCommand(go);
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }], agentCommand: slow });
  const factory = await lab.factory();
  const job = await lab.submitTasks('bitaxe', [{ name: 'once', script: `echo run >> '${runs}'` }]);
  await agentProcessStarted(lab);
  const [first] = liveRows(lab.dbFile);

  await lab.srv.restart({ kill9: true }); // the lease is gone with the server's memory
  // The factory's passes try to renew the lease against the restarted server (its request log
  // shows them) while the agent is still held at the gate.
  const renewals = () => lab.srv.proc.stderr.filter((l) => l.includes(`/0/factory/lease/${job}`)).length;
  await waitFor(() => renewals() >= 3, 'three lease renewals refused by the restarted server', 15_000, 50);
  writeFileSync(go, '');
  t.equal((await lab.waitJob(job, ['completed', 'failed'], 60_000)).state, 'completed', 'the job completed');
  t.equal(readFileSync(runs, 'utf8'), 'run\n', 'it ran once');
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 30_000, 100);
  const rows = allRows(lab.dbFile);
  t.equal(rows[0]?.id, first.id, 'the first instance is the one that was starting when the server restarted');
  t.equal(rows.length, 1, `one instance for the job (${rows.map((r) => `${r.id}: ${r.reason}`).join('; ')})`);
  t.same(await lab.workers(), []);
  t.equal(await factory.stop(), 0);
  await lab.noLeaks(t);
});

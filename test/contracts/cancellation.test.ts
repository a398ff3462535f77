// One cancellation contract, through a real pass of the factory (in process, against a real
// `mvm server`): an agent start that outlives agent_start_timeout ends with a TimeoutError that
// says which bound passed — carried by the signal the executor got, not by a timer of its own.
import t from 'tap';
import Database from 'better-sqlite3';
import { LocalExecutor } from '../../factory/executor/local.js';
import type { AgentSpec } from '../../factory/executor/types.js';
import { abortError } from '../../shared/sleep.js';
import { startLab } from '../factory/fixture.js';
import { inProcessFactory } from '../factory/in-process.js';

/** A local executor whose start never finishes by itself: only its signal ends it. */
class HangingStart extends LocalExecutor {
  seen: Error[] = [];
  override start(_spec: AgentSpec, signal?: AbortSignal): Promise<never> {
    return new Promise((_resolve, reject) =>
      signal?.addEventListener('abort', () => {
        const err = abortError(signal);
        this.seen.push(err);
        reject(err);
      }),
    );
  }
}

t.test("a start past agent_start_timeout fails with the deadline's TimeoutError", async (t) => {
  const lab = await startLab(t, { testbeds: [{ name: 'bench-1', targets: ['bitaxe'] }] });
  const { factory, executor } = await inProcessFactory(t, lab, {
    patch: { agentStartTimeoutMs: 300 },
    executor: (opts) => new HangingStart(opts),
  });
  await lab.submit('bitaxe', 'true');
  await factory.tick({ lease: true });
  t.match(executor.seen, [{ code: 'TIMEOUT', timeoutMs: 300 }], 'the executor saw the deadline as a TimeoutError');
  const rows = new Database(lab.dbFile, { readonly: true })
    .prepare("select reason, failure from instances where testbed = 'bench-1'")
    .all();
  t.match(rows, [
    {
      reason: 'agent failed to start',
      failure: /starting the agent of \w+ did not finish within 300 ms/,
    },
  ]);
});

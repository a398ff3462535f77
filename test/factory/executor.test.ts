// The local executor with real processes: idempotent start, adoption by pid file and by the
// instance id in the environment, stop reaching the agent's whole tree and its task group, and
// the agent's online line on its pipe.
import t from 'tap';
import { existsSync, fstatSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_ONLINE_FD_ENV, AGENT_ONLINE_LINE, announceOnline } from '../../shared/agent-online.js';
import { silentLogger } from '../../shared/log.js';
import { groupAlive } from '../../shared/process-tree.js';
import { LocalExecutor } from '../../factory/executor/local.js';
import type { AgentSpec } from '../../factory/executor/types.js';
import { projectPath } from '../../shared/paths.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { processAlive } from './fixture.js';

const TREE_AGENT = projectPath('test', 'fixtures', 'agents', 'tree-agent.mjs');

function spec(id: string): AgentSpec {
  return {
    instanceId: id,
    url: 'http://127.0.0.1:1',
    bootstrap: 'secret-bootstrap',
    testbed: { version: 1, testbed: 'bench-1', instance: id, target: 'bitaxe', devices: [] },
  };
}

function executor(root: string, env?: NodeJS.ProcessEnv): LocalExecutor {
  return new LocalExecutor({
    root,
    command: [process.execPath, TREE_AGENT],
    log: silentLogger(),
    ...(env ? { env } : {}),
  });
}

t.test('start is idempotent; stop ends the agent tree and its task group, gracefully then forced', async (t) => {
  const root = tempDir(t);
  const ex = executor(root, {
    ...process.env,
    MVM_FACTORY_TOKEN: 'hunter2',
    MVM_ADMIN_TOKEN: 'hunter2',
    MVM_FACTORY_API_TOKEN: 'hunter2',
    MVM_LOG_LEVEL: 'info',
  });
  const id = '01JTESTINSTANCE00000000000A';
  let exited = 0;
  ex.onExit(() => exited++);
  const h = await ex.start(spec(id));
  t.teardown(() => {
    for (const g of [h.pgid]) if (groupAlive(g)) process.kill(-g, 'SIGKILL');
  });
  t.equal(h.pgid, h.pid, 'the agent leads its own process group');
  const dir = ex.workdir(id);
  const bootstrap = join(dir, 'bootstrap');
  t.equal(readFileSync(bootstrap, 'utf8'), 'secret-bootstrap');
  t.equal(statSync(bootstrap).mode & 0o777, 0o600, 'the bootstrap file is private');
  t.match(JSON.parse(readFileSync(join(dir, 'testbed.json'), 'utf8')), { version: 1, instance: id });
  const tree = await waitFor(
    () => (existsSync(join(dir, 'tree.json')) ? JSON.parse(readFileSync(join(dir, 'tree.json'), 'utf8')) : undefined),
    'the agent tree',
  );
  t.teardown(() => {
    if (groupAlive(tree.task)) process.kill(-tree.task, 'SIGKILL');
  });
  const again = await ex.start(spec(id));
  t.equal(again.pid, h.pid, 'a second start returns the running agent');
  t.equal(await ex.isRunning(id, h), true);

  const agentEnv = readFileSync(`/proc/${h.pid}/environ`, 'utf8').split('\0');
  t.ok(agentEnv.includes(`MVM_FACTORY_INSTANCE=${id}`));
  t.notOk(
    agentEnv.some((e) => /^MVM_(FACTORY|ADMIN|FACTORY_API)_TOKEN=/.test(e) || e.includes('hunter2')),
    "the factory's secrets are not in the agent's environment",
  );
  t.ok(agentEnv.includes('MVM_LOG_LEVEL=info'), 'the rest of it is');

  const r = await ex.stop(id, h, 300);
  t.equal(r.outcome, 'killed', 'the agent ignored SIGTERM and was killed');
  t.equal(r.taskPgid, tree.task);
  await waitFor(
    () => !processAlive(h.pid) && !processAlive(tree.helper) && !processAlive(tree.task),
    'the whole tree gone',
  );
  t.equal(groupAlive(tree.task), false);
  await waitFor(() => exited === 1, 'onExit called');
  t.equal(await ex.isRunning(id, h), false);
  t.match(ex.exitStatus(id), { signal: 'SIGKILL' });
});

t.test('a restarted factory adopts by pid file, or by environment when the pid file is missing', async (t) => {
  const root = tempDir(t);
  const first = executor(root);
  const id = '01JTESTINSTANCE00000000000B';
  const h = await first.start(spec(id));
  t.teardown(() => {
    if (groupAlive(h.pgid)) process.kill(-h.pgid, 'SIGKILL');
  });
  const dir = first.workdir(id);
  const tree = await waitFor(
    () => (existsSync(join(dir, 'tree.json')) ? JSON.parse(readFileSync(join(dir, 'tree.json'), 'utf8')) : undefined),
    'the agent tree',
  );
  t.teardown(() => {
    if (groupAlive(tree.task)) process.kill(-tree.task, 'SIGKILL');
  });

  const second = executor(root); // a new factory process knows nothing in memory
  t.match(await second.adopt(id), { pid: h.pid, pgid: h.pgid }, 'by pid file');
  t.equal(await second.isRunning(id, h), true);
  rmSync(join(dir, 'agent.pid'));
  const third = executor(root);
  t.match(await third.adopt(id), { pid: h.pid, pgid: h.pgid }, 'by the instance id in its environment');
  t.ok(existsSync(join(dir, 'agent.pid')), 'the pid file is written again');
  t.equal((await third.start(spec(id))).pid, h.pid, 'start adopts rather than starting a second agent');
  t.equal(await third.adopt('01JTESTINSTANCE00000000000C'), undefined, 'another instance has no agent');

  const r = await third.stop(id, undefined, 200);
  t.equal(r.outcome, 'killed');
  await waitFor(() => !processAlive(h.pid) && !processAlive(tree.task), 'the tree gone');
  t.equal(await third.adopt(id), undefined, 'nothing to adopt once stopped');
  t.equal((await third.stop(id, h, 200)).outcome, 'gone', 'stopping again is harmless');
});

t.test('an agent that says it is online on its pipe wakes the factory; the pipe never keeps it waiting', async (t) => {
  const root = tempDir(t);
  // What announceOnline (shared/agent-online.ts) does, twice, then the agent stays up a little.
  // Written out here: a unit test starts no compiled code, and the function itself is checked below.
  const announce = `try { fs.writeSync(Number(process.env.${AGENT_ONLINE_FD_ENV}), ${JSON.stringify(AGENT_ONLINE_LINE)}); fs.closeSync(Number(process.env.${AGENT_ONLINE_FD_ENV})); } catch {}`;
  const script = `const fs = require('node:fs'); ${announce} ${announce} setTimeout(() => {}, 300);`;
  const ex = new LocalExecutor({
    root,
    command: [process.execPath, '-e', script, '--'],
    log: silentLogger(),
  });
  const seen: string[] = [];
  ex.onOnline((id) => seen.push(id));
  let exited = false;
  ex.onExit(() => (exited = true));
  const id = '01JTESTINSTANCE0000000000ON';
  await ex.start(spec(id));
  await waitFor(() => seen.length > 0 || undefined, 'the online line', 60_000);
  t.same(seen, [id], 'one wake, for this instance');
  await waitFor(() => exited || undefined, 'the agent to exit', 60_000);
  t.same(seen, [id], 'no second one');
});

t.test('announceOnline writes the line once to the named descriptor and closes it', async (t) => {
  const file = join(tempDir(t), 'online');
  const fd = openSync(file, 'w');
  const env: NodeJS.ProcessEnv = { [AGENT_ONLINE_FD_ENV]: String(fd) };
  announceOnline(env);
  announceOnline(env);
  t.equal(readFileSync(file, 'utf8'), AGENT_ONLINE_LINE, 'one line');
  t.equal(env[AGENT_ONLINE_FD_ENV], undefined, 'the variable is taken out, so a task does not inherit it');
  t.throws(() => fstatSync(fd), { code: 'EBADF' }, 'the descriptor is closed');
  // Without the factory's pipe (an agent started by hand, over SSH) announcing is a no-op.
  t.doesNotThrow(() => announceOnline({}));
  t.doesNotThrow(() => announceOnline({ [AGENT_ONLINE_FD_ENV]: '1000' }), 'a descriptor that is not open');
});

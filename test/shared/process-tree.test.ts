import t from 'tap';
import { spawn } from 'node:child_process';
import { groupAlive, processAlive, stopProcessGroup } from '../../shared/process-tree.js';

t.test('a process group with a grandchild is stopped as a whole', async (t) => {
  // sh leads the group; its background sleep is a grandchild of the test process.
  const child = spawn('sh', ['-c', 'sleep 60 & echo $!; wait'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const grandchild = await new Promise<number>((resolve) =>
    child.stdout.once('data', (d) => resolve(Number(String(d).trim()))),
  );
  t.ok(groupAlive(child.pid!), 'group alive');
  t.ok(processAlive(grandchild), 'grandchild alive');
  const r = await stopProcessGroup(child.pid!, 5000);
  t.equal(r.outcome, 'terminated');
  t.notOk(groupAlive(child.pid!), 'group gone');
  t.notOk(processAlive(grandchild), 'grandchild gone');
});

t.test('a group that ignores SIGTERM is killed after the grace period', async (t) => {
  const child = spawn('sh', ['-c', "trap '' TERM; echo ready; while :; do sleep 0.05; done"], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const r = await stopProcessGroup(child.pid!, 200);
  t.equal(r.outcome, 'killed');
  t.notOk(groupAlive(child.pid!));
});

t.test('a group that does not exist is reported gone', async (t) => {
  t.same((await stopProcessGroup(2 ** 22 - 7, 100)).outcome, 'gone');
});

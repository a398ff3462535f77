// The remote agent's life over a real sshd, with a stand-in `mvm` (fake-mvm.ts): preflight
// reasons, testbed upload, detached start with the bootstrap string kept off every command line,
// a hung connection noticed by keepalive, reconnect, the agent found alive, stop by process group
// with nothing left behind — asserted on the remote side by pid — and shell injection attempts.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshTarget } from '../../factory/executor/ssh/connection.js';
import { SshPool } from '../../factory/executor/ssh/pool.js';
import type { SshError } from '../../factory/executor/ssh/errors.js';
import {
  agentStatus,
  copyTestbed,
  preflight,
  startAgent,
  stopAgent,
  type RemoteShell,
} from '../../factory/executor/ssh/remote-agent.js';
import { sshdForFile, sshTargetOf } from '../helpers/sshd.js';
import { waitFor } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';
import { fakeAgentState, installFakeMvm, killLeftovers, type FakeMvm } from './fake-mvm.js';
import { INJECTED_MARKER, NASTY } from './nasty.js';

function pgidOf(pid: number): number {
  return Number(
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ')[2],
  );
}

/** Records every command line sent, to prove what the remote process list could ever show. */
function recording(shell: RemoteShell, lines: string[]): RemoteShell {
  return {
    destination: shell.destination,
    exec: (argv, opts) => {
      lines.push(argv.join(' '));
      return shell.exec(argv, opts);
    },
    writeFile: (p, d, m) => shell.writeFile(p, d, m),
  };
}

const sshd = sshdForFile(t, 'the remote agent tests');
if (sshd) {
  let pool: SshPool;
  let fake: FakeMvm;
  let base: string;
  t.before(() => {
    pool = new SshPool({ backoffBaseMs: 200, backoffMaxMs: 2000 });
    base = tempDir(t, 'mvm-remote-');
    fake = installFakeMvm(base);
  });
  t.teardown(() => pool.close());
  const target = (): SshTarget => sshTargetOf(sshd);

  /** pid → process state letter on the remote side ('' when there is no such process). */
  async function remoteStates(pids: number[]): Promise<Map<number, string>> {
    const conn = await pool.host(target()).get({ wait: true });
    const r = await conn.exec(['ps', '-o', 'pid=,stat=', '-p', pids.join(',')]);
    const m = new Map<number, string>(pids.map((p) => [p, '']));
    for (const line of r.stdout.trim().split('\n')) {
      const [pid, stat] = line.trim().split(/\s+/);
      if (pid) m.set(Number(pid), stat ?? '');
    }
    return m;
  }
  /** Alive = exists and is not a zombie (this machine's init does not reap orphans). */
  const living = async (pids: number[]) =>
    [...(await remoteStates(pids))].filter(([, s]) => s !== '' && !s.startsWith('Z')).map(([p]) => p);

  t.test('preflight says why a host cannot run agents', async (t) => {
    const shell = await pool.host(target()).get();
    const ok = await preflight(shell, { remoteCommand: [fake.path], workdir: join(base, 'pf') });
    t.equal(ok.version, '0.1.0');
    t.ok(existsSync(join(base, 'pf')), 'the workdir was created');

    const missing = (await preflight(shell, { remoteCommand: ['/nonexistent/mvm'], workdir: join(base, 'pf') }).catch(
      (e) => e,
    )) as SshError;
    t.match(missing, {
      failure: 'remote',
      retryable: false,
      message: /remote command `\/nonexistent\/mvm` cannot be run \(exit 127/,
    });
    t.match(missing.hint, /install mvm/);

    fake.setVersion('9.3.1');
    t.teardown(() => fake.setVersion('0.1.0'));
    await t.rejects(preflight(shell, { remoteCommand: [fake.path], workdir: join(base, 'pf') }), {
      message: /remote mvm version 9\.3\.1 is not compatible with the factory's 0\.1\.0/,
    });
    fake.setVersion('0.1.0');

    writeFileSync(join(base, 'a-file'), '');
    const notDir = (await preflight(shell, { remoteCommand: [fake.path], workdir: join(base, 'a-file', 'wd') }).catch(
      (e) => e,
    )) as SshError;
    t.match(notDir.message, /cannot create the workdir .*a-file\/wd as root/);
    t.comment(notDir.message);

    const shared = join(base, 'shared');
    mkdirSync(shared, { mode: 0o777 });
    chmodSync(shared, 0o777);
    await t.rejects(preflight(shell, { remoteCommand: [fake.path], workdir: shared }), {
      message: /the workdir .*shared is writable by other users \(mode drwxrwxrwx\)/,
    });
  });

  t.test('start, cut the connection, notice, reconnect, find the agent, stop it by process group', async (t) => {
    const workdir = join(base, 'instances', '01JINSTANCE1');
    t.teardown(() => killLeftovers(workdir));
    const host = pool.host(target());
    const conn = await host.get();
    const sent: string[] = [];
    const shell = recording(conn, sent);
    await preflight(shell, { remoteCommand: [fake.path], workdir });
    const testbed = { version: 1, testbed: 'bench-1', instance: '01JINSTANCE1', target: 'bitaxe', devices: [] };
    const testbedFile = await copyTestbed(shell, workdir, testbed);
    t.same(JSON.parse(readFileSync(testbedFile, 'utf8')), testbed, 'the testbed description was copied');

    const bootstrap = 'strap-' + 'Zq9'.repeat(20);
    const handle = await startAgent(shell, {
      remoteCommand: [fake.path],
      workdir,
      url: 'http://127.0.0.1:9300',
      bootstrap,
      testbedFile,
    });
    t.ok(handle.pid > 1);
    const state = await waitFor(
      () => {
        const s = fakeAgentState(workdir);
        return s.agentPid && s.taskPid && s.taskChildPid && s.childPid && existsSync(join(workdir, 'running-task.json'))
          ? s
          : undefined;
      },
      'the stand-in agent to start its task',
      15_000,
    );
    t.equal(pgidOf(state.agentPid!), handle.pid, 'the agent runs in the process group recorded');
    t.same(state.args, [
      'agent',
      'run',
      '--url',
      'http://127.0.0.1:9300',
      '--workdir',
      workdir,
      '--testbed',
      testbedFile,
      '--bootstrap-file',
      join(workdir, 'bootstrap'),
    ]);
    t.equal(state.bootstrap, bootstrap, 'the agent received the bootstrap string');
    t.equal(state.bootstrapMode, '600', 'through a 0600 file');
    t.notOk(existsSync(join(workdir, 'bootstrap')), 'which the agent deleted');
    t.notOk(
      sent.some((l) => l.includes(bootstrap)),
      'no command line sent over SSH carried the bootstrap string',
    );
    const ps = await conn.exec(['ps', '-eo', 'args']);
    t.match(ps.stdout, 'fake-mvm agent run', 'ps sees the agent');
    t.notOk(ps.stdout.includes(bootstrap), 'the remote process list does not show the bootstrap string');

    const st = await agentStatus(shell, workdir);
    t.same(st, { running: true, pid: handle.pid, taskPgid: state.taskPid, exitCode: undefined });

    // hang the connection: freeze the server side of it, so only keepalive can tell
    const lost = new Promise<{ err: SshError; at: number }>((resolve) =>
      host.once('lost', (err) => resolve({ err, at: Date.now() })),
    );
    const frozen = sshd.connectionPids();
    t.ok(frozen.length > 0, 'the server has a process for our connection');
    const cutAt = Date.now();
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    const { err, at } = await lost;
    t.comment(`hung connection noticed after ${at - cutAt} ms (${err.message})`);
    t.match(err, { failure: 'lost', retryable: true, message: /no answer to keepalive probes/ });
    t.notOk(conn.alive);
    await t.rejects(conn.exec(['true']), { name: 'SshError', failure: 'lost' }, 'the dead connection refuses work');
    for (const pid of frozen) process.kill(pid, 'SIGKILL');

    const conn2 = await host.get({ wait: true });
    t.not(conn2, conn, 'a new connection');
    t.same(
      await living([handle.pid, state.agentPid!, state.childPid!, state.taskPid!, state.taskChildPid!]),
      [handle.pid, state.agentPid, state.childPid, state.taskPid, state.taskChildPid],
      'the agent and its task outlived the connection',
    );
    t.same(await agentStatus(conn2, workdir), st, 'found running after the reconnect');

    const stopped = await stopAgent(conn2, workdir, 1000);
    t.same(
      stopped,
      { outcome: 'killed', taskPgid: state.taskPid },
      'the task ignores SIGTERM, so the groups were killed after the grace period',
    );
    t.same(
      await living([handle.pid, state.agentPid!, state.childPid!, state.taskPid!, state.taskChildPid!]),
      [],
      'no process of either group is left',
    );
    t.same(await agentStatus(conn2, workdir), {
      running: false,
      pid: undefined,
      taskPgid: undefined,
      exitCode: undefined,
    });
    t.same(await stopAgent(conn2, workdir, 1000), { outcome: 'gone' }, 'stopping again is harmless');
  });

  t.test(
    'sshd stopped and started again: loss seen at once, refused while down, reconnect, agent survives',
    async (t) => {
      const workdir = join(base, 'instances', '01JINSTANCE3');
      t.teardown(() => killLeftovers(workdir));
      const host = pool.host(target());
      const conn = await host.get({ wait: true });
      const handle = await startAgent(conn, {
        remoteCommand: [fake.path],
        workdir,
        url: 'http://127.0.0.1:9300',
        bootstrap: 'b',
      });
      const state = await waitFor(
        () => (fakeAgentState(workdir).taskPid ? fakeAgentState(workdir) : undefined),
        'the stand-in agent',
        15_000,
      );

      const lost = new Promise<SshError>((resolve) => host.once('lost', resolve));
      const t0 = Date.now();
      await sshd.halt();
      const err = await lost;
      t.comment(`closed connection noticed after ${Date.now() - t0} ms (${err.message})`);
      t.equal(err.failure, 'lost');
      await t.rejects(host.get(), { failure: 'unreachable', message: /connection refused/ }, 'the host is down');
      await t.rejects(host.get(), { failure: 'unreachable', message: /next attempt in/ }, 'and is not hammered');
      await sshd.restart();
      const conn2 = await host.get({ wait: true });
      t.ok(conn2.alive, 'reconnected once the server is back');
      t.match(await agentStatus(conn2, workdir), { running: true, pid: handle.pid }, 'the agent survived the outage');
      t.equal((await stopAgent(conn2, workdir, 500)).outcome, 'killed');
      t.same(await living([handle.pid, state.agentPid!, state.childPid!, state.taskPid!, state.taskChildPid!]), []);
    },
  );

  t.test('an agent that obeys SIGTERM is stopped gracefully; a second start is refused while one runs', async (t) => {
    const workdir = join(base, 'instances', '01JINSTANCE2');
    const conn = await pool.host(target()).get({ wait: true });
    const handle = await startAgent(conn, {
      remoteCommand: ['sh', '-c', 'exec sleep 1000'],
      workdir,
      url: 'http://127.0.0.1:1',
      bootstrap: 'x',
    });
    t.teardown(() => {
      try {
        process.kill(-handle.pid, 'SIGKILL');
      } catch {
        /* stopped by the test */
      }
    });
    await t.rejects(
      startAgent(conn, {
        remoteCommand: ['sh', '-c', 'exec sleep 1000'],
        workdir,
        url: 'http://127.0.0.1:1',
        bootstrap: 'x',
      }),
      {
        message: /an agent already runs in .* \(process group \d+\); stop it first/,
      },
    );
    t.same(await stopAgent(conn, workdir, 5000), { outcome: 'terminated' });
    t.same(await living([handle.pid]), []);
  });

  t.test('testbed names, paths, URLs and tokens with shell metacharacters cannot inject commands', async (t) => {
    const markers = join(base, 'markers');
    mkdirSync(markers, { recursive: true });
    const evil = (tag: string) =>
      `${tag}; touch ${markers}/semi $(touch ${markers}/dollar) \`touch ${markers}/tick\` ' " | touch ${markers}/pipe & touch ${markers}/amp > ${markers}/redir\ntouch ${markers}/newline`;
    const workdir = join(base, 'instances', evil('bench'));
    t.teardown(() => killLeftovers(workdir));
    const url = 'http://127.0.0.1:9300/' + evil('url');
    const bootstrap = evil('token');
    const conn = await pool.host(target()).get({ wait: true });

    await preflight(conn, { remoteCommand: [fake.path], workdir });
    const testbedFile = await copyTestbed(conn, workdir, { testbed: evil('name') });
    const handle = await startAgent(conn, { remoteCommand: [fake.path], workdir, url, bootstrap, testbedFile });
    const state = await waitFor(
      () => {
        const s = fakeAgentState(workdir);
        return s.agentPid && s.taskPid ? s : undefined;
      },
      'the stand-in agent',
      15_000,
    );
    t.same(
      state.args,
      [
        'agent',
        'run',
        '--url',
        url,
        '--workdir',
        workdir,
        '--testbed',
        testbedFile,
        '--bootstrap-file',
        join(workdir, 'bootstrap'),
      ],
      'every argument arrived verbatim',
    );
    t.equal(state.bootstrap, bootstrap);
    t.match(await agentStatus(conn, workdir), { running: true, pid: handle.pid });
    t.equal((await stopAgent(conn, workdir, 500)).outcome, 'killed');

    const echo = await conn.exec(['printf', '%s\\0', ...NASTY, evil('argv')]);
    t.same(echo.stdout.split('\0').slice(0, -1), [...NASTY, evil('argv')]);
    t.same(readdirSync(markers), [], 'no marker file was created on the remote side');
    t.notOk(existsSync(INJECTED_MARKER), `${INJECTED_MARKER} was not created`);
  });
}

// Security: no token ever reaches a log. A full run at debug level — a real server, factory and
// agent; a job with an input, a task printing its whole environment, an output; refused requests
// with a wrong token — then every line the three wrote (stdout and stderr, and the agent's log
// files on disk) and the job's own event log are searched for each token: admin, user, factory,
// worker, the worker's bootstrap string, and a wrong token a client sent. A token cut short in a
// log would still leak most of it, so its first 12 characters are searched for too.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { ulid } from 'ulid';
import { newToken } from '../../shared/ids.js';
import { waitFor } from '../helpers/mvm-process.js';
import { allRows, liveRows } from '../factory/fixture.js';
import { startFaultLab } from './lib/stack.js';

/** Every file under `dir`, except those that hold a secret by design (named in `except`). */
function logFiles(dir: string, except: string[]): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !except.includes(e.name))
    .map((e) => join(e.parentPath, e.name));
}

t.test('no token appears in any log of a full run', async (t) => {
  const lab = await startFaultLab(t, { testbeds: [{ name: 'gamma-1', targets: ['bitaxe'] }] });
  const factory = await lab.factory({ env: { MVM_LOG_LEVEL: 'debug' } });
  const job = await lab.srv.submitJob(lab.userToken, {
    target: 'bitaxe',
    inputs: ['fw.bin'],
    output_rules: ['/work/output/*'],
    tasks: [
      {
        name: 'env',
        script: 'env | sort\ncat "$MVM_INPUT_DIR/fw.bin" > "$MVM_OUTPUT_DIR/copy.bin"',
        env_clear: false,
        env: { FAULT_MARK: lab.mark },
      },
    ],
  });
  const chunk = await lab.user.json<{ id: string }>('POST', `/0/jobs/${job}/chunk`, {
    body: Buffer.from('firmware'),
    contentType: 'application/octet-stream',
  });
  await lab.user.post(`/1/jobs/${job}/input`, { name: 'fw.bin', size: 8, chunks: [chunk.id], commit_id: ulid() });
  const wrong = newToken();
  for (const path of ['/0/whoami', '/0/factory/ping', '/0/worker/ping', '/0/admin/targets']) {
    const r = await request(lab.srv.url + path, { headers: { authorization: `Bearer ${wrong}` } });
    t.equal(r.statusCode, 401, `a wrong token is refused on ${path}`);
    await r.body.dump();
  }
  t.equal((await lab.waitJob(job, ['completed', 'failed'], 60_000)).state, 'completed');
  await waitFor(() => liveRows(lab.dbFile).length === 0, 'the instance destroyed', 30_000, 100);
  // The worker's secrets, read where the agent keeps them (a 0600 state file, not a log).
  const [row] = allRows(lab.dbFile);
  const stateFile = join(lab.instancesDir, row.id, 'agent-state.json');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { token: string; bootstrap: string };
  t.equal(statSync(stateFile).mode & 0o777, 0o600, 'the agent state file is private');
  const events = (await lab.events(job)).map((e) => e.payload).join('\n');
  t.equal(await factory.stop(), 0);
  t.equal(await lab.srv.stop(), 0, 'the server stopped, its shutdown logged too');

  const secrets: Record<string, string> = {
    admin: lab.srv.adminToken,
    user: lab.userToken,
    factory: lab.factoryToken,
    worker: state.token,
    bootstrap: state.bootstrap,
    'wrong (sent by a client)': wrong,
  };
  const sources: Record<string, string> = {
    'server stdout+stderr': [...lab.srv.proc.stdout, ...lab.srv.proc.stderr].join('\n'),
    'factory stdout+stderr': [...factory.stdout, ...factory.stderr].join('\n'),
    "the job's events": events,
  };
  for (const f of logFiles(lab.instancesDir, ['agent-state.json', 'testbed.json'])) {
    if (f.includes(`${join('jobs', job)}/`) && !f.endsWith('.spool')) continue; // the job's own files (scripts, inputs, outputs)
    sources[f.slice(lab.instancesDir.length + 1)] = readFileSync(f, 'latin1');
  }
  t.ok(
    Object.keys(sources).some((k) => k.endsWith('agent.log')),
    'the agent log on disk is searched',
  );
  // All ran at debug level (the factory may have nothing to say at debug in a run this smooth).
  for (const source of ['server stdout+stderr', ...Object.keys(sources).filter((k) => k.endsWith('agent.log'))]) {
    t.match(sources[source], /"level":20/, `${source}: debug lines captured`);
  }
  t.ok(
    sources['factory stdout+stderr'].split('\n').filter((l) => l.includes('"level":30')).length > 5,
    'factory: its log captured',
  );
  t.match(sources["the job's events"], /MVM_TESTBED=/, "the task's environment was printed into the job's events");
  for (const [source, text] of Object.entries(sources)) {
    const leaked = Object.entries(secrets)
      .filter(([, s]) => text.includes(s.slice(0, 12)))
      .map(([name]) => name);
    t.same(leaked, [], `${source}: no token`);
  }
  await lab.noLeaks(t);
});

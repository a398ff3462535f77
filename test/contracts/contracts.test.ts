// The cross-process contracts (shared/contracts/): each validator locates every problem at once;
// what the factory writes is what the runner reads; readers refuse what breaks a contract instead
// of trusting it (a health report with a malformed check, an infra entry with an unknown reason,
// a pid file in another format); the local executor writes agent.pid in the one format.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRunningTask } from '../../agent/marker.js';
import { loadConfig } from '../../factory/config/load.js';
import { LocalExecutor } from '../../factory/executor/local.js';
import { readVerdict } from '../../factory/runner-verdict.js';
import { describeTestbed } from '../../factory/testbed-description.js';
import { parseTestbed } from '../../runner/testbed.js';
import { agentPidContract } from '../../shared/contracts/agent-pid.js';
import { infraFailureContract, summariseInfraReport } from '../../shared/contracts/infra-report.js';
import { InfraFailureSchema } from '../../shared/contracts/infra-report-schema.js';
import { healthReportContract, restoreReportContract } from '../../shared/contracts/runner-report.js';
import { HealthReportSchema, RestoreReportSchema } from '../../shared/contracts/runner-report-schema.js';
import { defineContract } from '../../shared/contracts/validate.js';
import { instancePath } from '../../shared/contracts/layout.js';
import { runningTaskContract } from '../../shared/contracts/running-task.js';
import { testbedContract } from '../../shared/contracts/testbed.js';
import { ConfigError } from '../../shared/errors.js';
import { silentLogger } from '../../shared/log.js';
import { projectPath } from '../../shared/paths.js';
import { groupAlive } from '../../shared/process-tree.js';
import { tempDir } from '../helpers/tmp.js';

t.test('a contract reports every problem at once, located, with its hint', async (t) => {
  const problems = testbedContract.problems({
    version: 2,
    testbed: '',
    devices: [{ name: 'a', driver: 'axeos', attributes: ['x', 1] }, { driver: 'axeos' }],
  });
  t.same(
    problems.map((p) => `${p.key}: ${p.message}`),
    [
      'version: unsupported version 2',
      'testbed: missing the testbed name',
      'devices[0].attributes[1]: must be string',
      'devices[1].name: missing',
    ],
  );
  t.equal(problems[0].hint, 'this runner reads version 1');
  const err = t.throws(() => testbedContract.parse('{"version": 1,', 'tb.json')) as unknown as ConfigError;
  t.match(err.problems, [{ file: 'tb.json', key: '(file)', message: /the testbed description is not valid JSON/ }]);
});

t.test('what the factory writes for every testbed of config.example.toml is what the runner reads', async (t) => {
  const config = loadConfig(projectPath('config.example.toml'), {
    env: { ...process.env, MVM_FACTORY_TOKEN: 'x' },
  });
  t.ok(config.testbeds.length >= 4, `${config.testbeds.length} testbeds`);
  for (const tb of config.testbeds) {
    const written = describeTestbed(tb, {
      instance: { id: '01JINSTANCE', target: 'bitaxe' },
      firmwareDir: '/var/lib/mvm/firmware',
      lockCredential: 'c',
      lockDir: '/run/mvm/locks',
    });
    t.same(testbedContract.problems(written), [], `${tb.name}: the description keeps its contract`);
    const read = parseTestbed(JSON.stringify(written), `${tb.name}/testbed.json`);
    t.same(
      read.devices.map((d) => [d.name, d.driver, d.address]),
      written.devices.map((d) => [d.name, d.driver, d.address ?? '']),
      `${tb.name}: the runner reads the same devices`,
    );
    t.equal(read.lockCredential, 'c');
  }
});

t.test('the runner refuses a description that breaks the contract where it did not look before', async (t) => {
  const err = t.throws(() =>
    parseTestbed(
      JSON.stringify({ version: 1, testbed: 'x', instance: 42, devices: [{ name: 'a', driver: 'command' }] }),
      'tb.json',
    ),
  ) as unknown as ConfigError;
  t.same(
    err.problems.map((p) => `${p.key}: ${p.message}`),
    ['instance: must be a string'],
  );
});

t.test("the factory's verdict refuses a runner report that breaks its contract", async (t) => {
  const result = (report: unknown, code = 0) => ({
    code,
    signal: null,
    stdout: `some chatter\n${JSON.stringify(report)}\n`,
    stderr: '',
    timedOut: false,
  });
  const good = {
    ok: true,
    testbed: 'bench',
    devices: [{ device: 'gamma', ok: true, checks: [{ name: 'answers', ok: true, message: 'answers' }] }],
    summary: 'healthy',
  };
  t.same(readVerdict('health', 'health check', result(good)), { ok: true, message: 'healthy' });
  const bad = { ...good, devices: [{ ...good.devices[0], checks: [{ name: 'answers', ok: 'yes', message: 'x' }] }] };
  const v = readVerdict('health', 'health check', result(bad));
  t.equal(v.ok, false, 'a report whose check says ok: "yes" is not a pass');
  t.match(v.message, /breaks its contract \(devices\[0\]\.checks\[0\]\.ok: must be true or false, not a string\)/);
  // A restore report read as a health report is not one either (no summary).
  const restore = { ok: true, testbed: 'bench', devices: [{ device: 'gamma', ok: true, actions: [] }] };
  t.same(readVerdict('restore', 'restore', result(restore)), { ok: true, message: 'gamma: ok' });
  t.match(readVerdict('health', 'health check', result(restore)).message, /summary: missing/);
});

t.test('infra-failures.jsonl: entries that break the contract are not taken for failures', async (t) => {
  const entry = {
    at: '2026-12-01T10:00:00.000Z',
    command: 'flash',
    device: 'gamma',
    reason: 'unreachable',
    message: 'm',
  };
  const text = [
    entry,
    { ...entry, device: 'nano', reason: 'refused' }, // a test's failure, not the testbed's
    { ...entry, device: 'nm', at: 'yesterday' },
  ]
    .map((e) => JSON.stringify(e))
    .join('\n');
  t.same(summariseInfraReport(text + '\n{"at":"2026-12-01T10:0'), ['gamma: m [unreachable] (runner flash)']);
});

t.test('running-task.json: a record missing a field is not trusted', async (t) => {
  const dir = tempDir(t);
  writeFileSync(instancePath(dir, 'runningTask'), JSON.stringify({ pgid: 4242, job: 'J' }) + '\n');
  t.equal(readRunningTask(dir), undefined);
  t.same(
    runningTaskContract.problems({ pgid: 1, job: 'J', task: 0 }).map((p) => p.key),
    ['pgid'],
  );
});

t.test('the local executor writes agent.pid in the one format and adopts only from it', async (t) => {
  const root = tempDir(t);
  const ex = new LocalExecutor({
    root,
    command: [process.execPath, projectPath('test', 'factory', 'fixtures', 'idle-agent.mjs')],
    log: silentLogger(),
  });
  const id = '01JCONTRACTS000000000000AA';
  const h = await ex.start({
    instanceId: id,
    url: 'http://127.0.0.1:1',
    bootstrap: 'b',
    testbed: { version: 1, testbed: 'bench', devices: [] },
  });
  t.teardown(() => {
    if (groupAlive(h.pgid)) process.kill(-h.pgid, 'SIGKILL');
  });
  const file = join(ex.workdir(id), 'agent.pid');
  const pf = agentPidContract.parse(readFileSync(file, 'utf8'), file);
  t.match(pf, { pid: h.pid, pgid: h.pgid, started_at: h.startedAt, start_time: /^\d+$/ });
  // An older camelCase pid file is not the contract: adoption falls back to the environment mark.
  writeFileSync(file, JSON.stringify({ pid: h.pid, pgid: h.pgid, startTime: pf.start_time, startedAt: 1 }) + '\n');
  t.same(agentPidContract.problems(JSON.parse(readFileSync(file, 'utf8'))).length > 0, true);
  const adopted = await ex.adopt(id);
  t.equal(adopted?.pid, h.pid, 'found again by its environment');
  t.ok(agentPidContract.is(JSON.parse(readFileSync(file, 'utf8'))), 'and the pid file rewritten in the one format');
  const aborted = AbortSignal.abort(new Error('draining'));
  for (const [name, call] of [
    ['isRunning', () => ex.isRunning(id, h, aborted)],
    ['adopt', () => ex.adopt(id, aborted)],
    ['infraReport', () => ex.infraReport(id, aborted)],
    ['cleanup', () => ex.cleanup(id, aborted)],
  ] as const) {
    await t.rejects(
      async () => {
        await call();
      },
      { message: 'draining' },
      `${name}: an aborted caller gets no answer`,
    );
  }
  await ex.stop(id, adopted, 2000);
});

t.test('the reports judged from plain data accept exactly what the TypeBox schemas accept', async (t) => {
  // The runner and the factory judge reports by shared/contracts/judged/ (no TypeBox, no ajv at run
  // time); ajv on the TypeBox source must agree on every case.
  const restore = {
    ok: true,
    testbed: 'b',
    devices: [{ device: 'g', ok: true, actions: [{ action: 'pools', ok: true, message: 'm', from: 'a', to: 'b' }] }],
  };
  const health = {
    ok: false,
    testbed: 'b',
    devices: [
      { device: 'g', ok: false, checks: [{ name: 'hashrate', ok: false, message: 'low', measured: { ghs: 1 } }] },
    ],
    summary: 's',
  };
  const infra = { at: '2026-12-05T07:00:00.000Z', command: 'flash', device: 'g', reason: 'timeout', message: 'm' };
  const cases: Array<[string, { problems(v: unknown): unknown[] }, ReturnType<typeof defineContract>, unknown[]]> = [
    [
      'restore',
      restoreReportContract,
      defineContract('restore', RestoreReportSchema),
      [
        restore,
        { ...restore, extra: 1 },
        { ...restore, ok: 'yes' },
        { ...restore, devices: [{ ...restore.devices[0], actions: [{ action: 'reflash', ok: true, message: 'm' }] }] },
        { ...restore, devices: [{ device: 'g', ok: true }] },
        { ...restore, devices: [{ ...restore.devices[0], error: 5 }] },
        { ok: true, testbed: 'b' },
        [],
        null,
        'report',
      ],
    ],
    [
      'health',
      healthReportContract,
      defineContract('health', HealthReportSchema),
      [
        health,
        { ...health, summary: undefined },
        {
          ...health,
          devices: [{ ...health.devices[0], checks: [{ name: 'answers', ok: true, message: 'x', measured: null }] }],
        },
        { ...health, devices: [{ ...health.devices[0], checks: [{ name: 'answrs', ok: true, message: 'x' }] }] },
        { ...health, devices: [{ ...health.devices[0], checks: [{ name: 'answers', ok: true }] }] },
        { ...health, testbed: 3 },
      ],
    ],
    [
      'infra',
      infraFailureContract,
      defineContract('infra', InfraFailureSchema),
      [
        infra,
        { ...infra, at: '2026-12-05T07:00:00Z' },
        { ...infra, at: '2026-12-05T07:00:00+01:00' },
        { ...infra, at: 'yesterday' },
        { ...infra, at: '2026-12-05' },
        { ...infra, device: '' },
        { ...infra, reason: 'flaky' },
        { ...infra, command: 'restore' },
        { ...infra, message: undefined },
      ],
    ],
  ];
  for (const [name, judged, compiled, values] of cases)
    for (const [i, v] of values.entries())
      t.equal(judged.problems(v).length === 0, compiled.is(v), `${name} case ${i}: judged and compiled agree`);
});

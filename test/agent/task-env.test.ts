import t from 'tap';
import { buildTaskEnv } from '../../agent/task-env.js';

const host = { home: '/home/lab', user: 'lab', path: '/x/bin:/usr/bin', lang: 'C.UTF-8' };
const dirs = { inputDir: '/j/input', outputDir: '/j/work/output', workDir: '/j/work', testbed: '/a/testbed.json' };

t.test('buildomat environment plus MVM_* plus the task env on top', async (t) => {
  const env = buildTaskEnv('JOB1', { id: 2, env_clear: false, env: { FOO: 'bar', TZ: 'Europe/Paris' } }, host, dirs);
  t.same(env, {
    HOME: '/home/lab',
    USER: 'lab',
    LOGNAME: 'lab',
    TZ: 'Europe/Paris',
    PATH: '/x/bin:/usr/bin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    BUILDOMAT_JOB_ID: 'JOB1',
    BUILDOMAT_TASK_ID: '2',
    MVM_INPUT_DIR: '/j/input',
    MVM_OUTPUT_DIR: '/j/work/output',
    MVM_WORK_DIR: '/j/work',
    MVM_TESTBED: '/a/testbed.json',
    FOO: 'bar',
  });
});

t.test('env_clear leaves only the task env', async (t) => {
  t.same(buildTaskEnv('JOB1', { id: 0, env_clear: true, env: { ONLY: '1' } }, host, dirs), { ONLY: '1' });
});

t.test('no testbed, no MVM_TESTBED', async (t) => {
  const env = buildTaskEnv('J', { id: 0, env_clear: false, env: {} }, host, { ...dirs, testbed: undefined });
  t.notOk('MVM_TESTBED' in env);
});

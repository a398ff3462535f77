import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MvmError } from '../../shared/errors.js';
import { DEFAULT_OUTPUT_RULE, parsePairs, planJob } from '../../cli/job-spec.js';
import { tempDir } from '../helpers/tmp.js';

t.test('a script job: one task, the default output rule, env and tags', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'smoke-test.sh');
  writeFileSync(script, 'echo hi\n');
  const plan = planJob({ script, target: 'bitaxe', env: ['A=1', 'B=x=y'], tag: ['pr=7'], input: ['fw.bin'] });
  t.same(plan.submit, {
    name: 'smoke-test',
    target: 'bitaxe',
    tasks: [{ name: 'smoke-test', script: 'echo hi\n', env: { A: '1', B: 'x=y' }, env_clear: false }],
    output_rules: [DEFAULT_OUTPUT_RULE],
    inputs: [],
    tags: { pr: '7' },
  });
  t.same(plan.inputs, ['fw.bin']);
  const named = planJob({ script, target: 't', name: 'custom', 'output-rule': ['/work/x/*'] });
  t.equal(named.submit.name, 'custom');
  t.same(named.submit.output_rules, ['/work/x/*'], 'given rules replace the default');
});

t.test('a job file supplies name, target and rules; flags override', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'hw.sh');
  writeFileSync(
    file,
    '#!/bin/bash\n#: name = "hw"\n#: target = "nano3"\n#: output_rules = ["/work/logs/*"]\n#: skip_clone = true\n#: [dependencies.build]\n#: job = "build"\necho\n',
  );
  const plan = planJob({ file });
  t.equal(plan.submit.name, 'hw');
  t.equal(plan.submit.target, 'nano3');
  t.same(plan.submit.output_rules, ['/work/logs/*']);
  t.match(plan.notes.join('\n'), /ignoring header keys mvm does not use: skip_clone/);
  t.match(plan.notes.join('\n'), /ignoring dependencies \(build\)/);
  const over = planJob({ file, target: 'bitaxe', name: 'n2', 'output-rule': ['/work/more/*'] });
  t.equal(over.submit.target, 'bitaxe');
  t.equal(over.submit.name, 'n2');
  t.same(over.submit.output_rules, ['/work/logs/*', '/work/more/*']);
});

t.test('bad arguments are usage errors with hints', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 's.sh');
  writeFileSync(script, 'true\n');
  const cases: [Parameters<typeof planJob>[0], RegExp][] = [
    [{ target: 't' }, /nothing to run/],
    [{ script, file: script, target: 't' }, /--script and --file both given/],
    [{ script: join(dir, 'missing.sh'), target: 't' }, /cannot read the script file .*missing\.sh: no such file/],
    [{ script }, /no target given/],
    [{ script, target: 't', env: ['NOEQUALS'] }, /--env "NOEQUALS" is not KEY=VALUE/],
    [{ script, target: 't', env: ['1BAD=x'] }, /"1BAD" is not a valid variable name/],
    [{ script, target: 't', env: ['A=1', 'A=2'] }, /--env A is given twice/],
    [{ script, target: 't', tag: ['=v'] }, /--tag "=v" is not KEY=VALUE/],
    [{ script, target: 't', 'output-rule': ['relative/*'] }, /--output-rule: .*absolute/],
  ];
  for (const [args, re] of cases) {
    const err = t.throws(() => planJob(args), re) as MvmError;
    t.equal(err.code, 'USAGE', String(re));
    t.ok(err.hint, `hint for ${re}`);
  }
  const jf = join(dir, 'nt.sh');
  writeFileSync(jf, '#!/bin/bash\n#: name = "x"\n');
  t.throws(() => planJob({ file: jf }), { message: /no target given/, hint: /#: target = "NAME"/ });
});

t.test('parsePairs keeps everything after the first =', async (t) => {
  t.same(parsePairs(['K=a=b', 'E='], 'tag'), { K: 'a=b', E: '' });
  t.same(parsePairs(undefined, 'env'), {});
});

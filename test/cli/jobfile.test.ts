import t from 'tap';
import { ConfigError } from '../../shared/errors.js';
import { jobFileHeader, outputRuleProblem, parseJobFile } from '../../cli/jobfile.js';

const SAMPLE = `#!/bin/bash
#:
#: name = "hw-smoke"
#: variety = "basic"
#: target = "bitaxe"
#: rust_toolchain = "stable"
#: output_rules = [
#:   "/work/output/*",
#:   "%/var/log/miner.log",
#:   "!/work/output/*.tmp",
#: ]
#:
#: [dependencies.build]
#: job = "build"
#:

set -o errexit
echo "#: not header"
`;

t.test('parses the #: TOML header of a buildomat job file', async (t) => {
  const jf = parseJobFile(SAMPLE, 'hw.sh');
  t.equal(jf.name, 'hw-smoke');
  t.equal(jf.variety, 'basic');
  t.equal(jf.target, 'bitaxe');
  t.same(jf.outputRules, ['/work/output/*', '%/var/log/miner.log', '!/work/output/*.tmp']);
  t.same(jf.dependencies, { build: { job: 'build' } });
  t.same(jf.unused, ['rust_toolchain']);
  t.equal(jf.enabled, true);
  t.equal(jf.script, SAMPLE, 'the script is the whole file');
});

t.test('the header ends at the first line that is not #:', async (t) => {
  const { toml, lines } = jobFileHeader('#!/bin/bash\n#: name = "a"\necho\n#: target = "b"\n');
  t.equal(lines, 1);
  t.equal(toml, 'name = "a"');
  t.equal(jobFileHeader('#: name = "x"\n').lines, 1, 'a shebang is optional');
});

t.test('bad headers: every problem reported with the file and key', async (t) => {
  const err = t.throws(() =>
    parseJobFile('#!/bin/bash\n#: variety = "fancy"\n#: output_rules = ["work/x", "/a/../b"]\n#: colour = 1\n', 'j.sh'),
  ) as ConfigError;
  t.ok(err instanceof ConfigError);
  const keys = err.problems.map((p) => p.key).sort();
  t.same(keys, ['colour', 'name', 'output_rules', 'output_rules', 'variety']);
  t.match(err.message, /j\.sh: name: missing/);
  t.match(err.message, /"work\/x" must be an absolute path glob/);
  t.throws(() => parseJobFile('#!/bin/bash\necho hi\n', 'j.sh'), { message: /no "#:" header lines/ });
  t.throws(() => parseJobFile('#!/bin/bash\n#: name = \n', 'j.sh'), { message: /not valid TOML/ });
  const dep = t.throws(() => parseJobFile('#: name = "a"\n#: [dependencies.x]\n#: jab = "y"\n', 'j.sh')) as ConfigError;
  t.match(dep.problems, [
    { key: 'dependencies.x.jab', message: 'unknown key', hint: 'did you mean `job`?' },
    { key: 'dependencies.x.job', message: 'missing' },
  ]);
  t.throws(() => parseJobFile('#: name = "a"\n#: variety = "fancy"\n', 'j.sh'), {
    message: /variety: "fancy" is not supported/,
  });
});

t.test('output rules: absolute globs with optional ! = % prefixes', async (t) => {
  t.equal(outputRuleProblem('/work/output/**/*'), undefined);
  t.equal(outputRuleProblem('=%/work/x'), undefined);
  t.match(outputRuleProblem('output/*'), /absolute/);
  t.match(outputRuleProblem('/work/../etc/*'), /\.\./);
});

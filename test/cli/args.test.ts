// Argument handling of the real `mvm job` / `mvm admin` executables: bad command lines are refused
// before any server is contacted (the URL given here has nothing listening), with exit status 2
// for usage and 1 for a bad job file.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMvm } from '../helpers/mvm-process.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir(t);
writeFileSync(join(dir, 'profile.toml'), '');
const env = {
  MVM_PROFILE: join(dir, 'profile.toml'),
  MVM_URL: 'http://127.0.0.1:9',
  MVM_TOKEN: 'x',
  MVM_ADMIN_TOKEN: 'x',
};
const script = join(dir, 'ok.sh');
writeFileSync(script, 'true\n');
const badFile = join(dir, 'bad.sh');
writeFileSync(badFile, '#!/bin/bash\n#: name = "x"\n#: variety = "fancy"\n#: target = "t"\n');

const cases: { args: string[]; code: number; stderr: RegExp }[] = [
  { args: ['job'], code: 2, stderr: /name a job command: run, list, show, log, cancel, outputs/ },
  { args: ['job', 'run'], code: 2, stderr: /nothing to run[\s\S]*hint: pass --script FILE/ },
  {
    args: ['job', 'show'],
    code: 2,
    stderr: /^mvm: error: Not enough non-option arguments[^\n]*\n  hint: run with --help for usage$/,
  },
  {
    args: ['job', 'run', '--target', 't', '--script', script, '--outputs', script],
    code: 2,
    stderr: /--outputs .* is not a directory/,
  },
  { args: ['job', 'run', '--file', badFile], code: 1, stderr: /bad\.sh: variety: "fancy" is not supported/ },
  { args: ['job', 'run', '--target', 't', '--script', script, '--bogus'], code: 2, stderr: /Unknown argument: bogus/ },
  { args: ['admin', 'target', 'redirect', 'a'], code: 2, stderr: /say where to redirect[\s\S]*--to OTHER, or --clear/ },
];

for (const c of cases) {
  t.test(`mvm ${c.args.join(' ')}`, async (t) => {
    const r = await runMvm(c.args, { env });
    t.equal(r.code, c.code, r.stderr);
    t.match(r.stderr, c.stderr);
    t.notMatch(r.stderr, /cannot reach/, 'refused before contacting the server');
  });
}

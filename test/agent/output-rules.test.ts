import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileRules, fromPing, parseRuleText, WorkPaths } from '../../agent/output-rules.js';
import { scanOutputs } from '../../agent/outputs.js';
import { tempDir } from '../helpers/tmp.js';

t.test('prefixes: ! ignore, = must match, % size may change, in any combination', async (t) => {
  t.same(parseRuleText('/work/*.log'), {
    rule: '/work/*.log',
    ignore: false,
    requireMatch: false,
    sizeChangeOk: false,
  });
  t.same(parseRuleText('!/work/tmp/*'), {
    rule: '/work/tmp/*',
    ignore: true,
    requireMatch: false,
    sizeChangeOk: false,
  });
  t.same(parseRuleText('=%/work/a'), { rule: '/work/a', ignore: false, requireMatch: true, sizeChangeOk: true });
  t.same(fromPing({ rule: '%/x', ignore: false, require_match: true, size_change_ok: false }), {
    rule: '/x',
    ignore: false,
    requireMatch: true,
    sizeChangeOk: true,
  });
});

t.test('/work maps to the job work directory, both ways', async (t) => {
  const p = new WorkPaths('/agent/jobs/J/work');
  t.equal(p.toLocal('/work'), '/agent/jobs/J/work');
  t.equal(p.toLocal('/work/out/a.txt'), '/agent/jobs/J/work/out/a.txt');
  t.equal(p.toLocal('/workshop/a'), '/workshop/a', 'only /work itself, not a prefix of a name');
  t.equal(p.toLocal('/tmp/x'), '/tmp/x');
  t.equal(p.toLocal('sub/dir'), '/agent/jobs/J/work/sub/dir', 'a relative task workdir is under /work');
  t.equal(p.toJob('/agent/jobs/J/work/out/a.txt'), '/work/out/a.txt');
  t.equal(p.toJob('/tmp/x'), '/tmp/x');
});

t.test('relative and malformed rules are reported, not thrown', async (t) => {
  const { rules, problems } = compileRules(
    [parseRuleText('work/*.txt'), parseRuleText('/work/ok/*')],
    new WorkPaths('/w'),
  );
  t.equal(rules.length, 1);
  t.match(problems[0], { rule: 'work/*.txt', message: /absolute/ });
});

t.test('scan: globs, literal paths, ignore rules, each file once, sizes and the % flag', async (t) => {
  const work = join(tempDir(t), 'work');
  mkdirSync(join(work, 'output/deep/er'), { recursive: true });
  mkdirSync(join(work, 'tmp'), { recursive: true });
  writeFileSync(join(work, 'output/a.txt'), 'aaa');
  writeFileSync(join(work, 'output/deep/er/b.log'), 'bb');
  writeFileSync(join(work, 'output/.hidden'), 'h');
  writeFileSync(join(work, 'output/skip.tmp'), 's');
  writeFileSync(join(work, 'tmp/x'), 'x');
  writeFileSync(join(work, 'literal.bin'), '1234');
  const rules = [
    '/work/output/**/*',
    '!/work/**/*.tmp',
    '/work/output/*.txt',
    '%/work/literal.bin',
    '/work/missing.bin',
  ].map(parseRuleText);
  const scan = await scanOutputs(rules, new WorkPaths(work));
  t.same(
    scan.files.map((f) => [f.path, f.size, f.sizeChangeOk]),
    [
      ['/work/output/.hidden', 1, false],
      ['/work/output/a.txt', 3, false],
      ['/work/output/deep/er/b.log', 2, false],
      ['/work/literal.bin', 4, true],
    ],
  );
  t.same(scan.problems, [], 'a literal path that does not exist is simply not an output');
});

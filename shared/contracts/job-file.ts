// The header of a buildomat job file (`#:` TOML lines after the shebang): the judge of its shape
// when `mvm job run --file` reads one (cli/jobfile.ts, through shared/contracts/judge.ts). The
// output rules' own form is a rule in cli/jobfile.ts (the same check as --output-rule's).
import { Type } from '@sinclair/typebox';
import { Closed, OneOf, Strings, Word } from './formats.js';
import { judged } from './judge.js';
import { UNUSED_JOB_FILE_KEYS } from './job-file-keys.js';

export const JobFileHeaderSchema = Closed(
  {
    name: judged(Word('the job name'), { hint: 'add: #: name = "my-job"' }),
    variety: judged(OneOf(['basic'], 'the kind of job'), {
      message: '{value} is not supported',
      hint: 'only variety = "basic" exists',
    }),
    target: Word('the target the job asks for'),
    output_rules: Strings('absolute globs of the files kept, prefixed ! (ignore), = (must match), % (may change)'),
    dependencies: Type.Record(
      Type.String(),
      Closed({ job: Word('the job this one depends on') }, 'a job this one depends on', ['job']),
    ),
    enable: Type.Boolean(),
    ...Object.fromEntries(UNUSED_JOB_FILE_KEYS.map((k) => [k, Type.Unknown()])),
  },
  'the "#:" header of a buildomat job file',
  ['name'],
);

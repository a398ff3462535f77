// A contract judged from its plain-data schema (shared/contracts/judged/, written from the TypeBox
// source by `npm run gen:schemas`): the same contract as validate.ts's defineContract, without
// loading TypeBox or compiling ajv — for files a short-lived process writes or reads (the runner's
// --json reports and infra entries). validate.ts itself loads ajv only when a schema is compiled.
import { judge, type JudgedSchema } from './judge.js';
import { contractOf, type ValueContract } from './validate.js';

export function defineJudgedContract<T>(what: string, schema: JudgedSchema): ValueContract<T> {
  return contractOf<T>(what, (value) => judge(schema, value, { syntax: 'yaml' }).problems);
}

// A contract judged from its plain-data schema (shared/contracts/judged/, written from the TypeBox
// source by `npm run gen:schemas`): the same checks as validate.ts's defineContract, without
// loading TypeBox or compiling ajv — for files a short-lived process writes or reads (the runner's
// --json reports, once per restore or health check).
import { ConfigError, type ConfigProblem } from '../errors.js';
import { judge, type JudgedSchema } from './judge.js';
import type { ContractProblem } from './validate.js';

export interface JudgedContract<T> {
  /** What the value is, for messages: "the runner's restore report". */
  readonly what: string;
  /** Every problem with `value`, located; [] when it is valid. */
  problems(value: unknown): ContractProblem[];
  /** `value` itself when valid; else a ConfigError naming `file` and every problem. */
  check(value: unknown, file: string): T;
  /** The value from JSON text, or undefined when the text is not JSON or not valid (torn writes). */
  tryParse(text: string): T | undefined;
}

export function defineJudgedContract<T>(what: string, schema: JudgedSchema): JudgedContract<T> {
  const problems = (value: unknown) => judge(schema, value, { syntax: 'yaml' }).problems;
  return {
    what,
    problems,
    check(value, file) {
      const list = problems(value);
      if (list.length > 0) throw new ConfigError(list.map((p): ConfigProblem => ({ file, ...p })));
      return value as T;
    },
    tryParse(text) {
      try {
        const value: unknown = JSON.parse(text);
        return problems(value).length === 0 ? (value as T) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

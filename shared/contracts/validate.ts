// One contract = one TypeBox schema: the TypeScript type (Static<>) and a compiled ajv validator
// whose errors are located ("devices[1].attributes[0]: must be a string"), every error at once.
// Writers build values of the type; readers validate what they read before trusting it.
import type { Static, TSchema } from '@sinclair/typebox';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import { ConfigError, type ConfigProblem } from '../errors.js';

/** One located problem: `key` is a path like `devices[1].name` ('(file)' for the whole value). */
export interface ContractProblem {
  key: string;
  message: string;
  hint?: string;
}

let shared: Ajv | undefined;

/**
 * The validator compiler, loaded on first use: a process that only names a contract's files or
 * types (the agent writing running-task.json) does not pay for ajv at start-up.
 */
function compiler(): Ajv {
  if (shared) return shared;
  const require = createRequire(import.meta.url);
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  // strict: false lets schemas carry their own `message` and `hint` annotations (below); verbose
  // hands each error its schema, where they are read.
  shared = new AjvClass({ allErrors: true, strict: false, verbose: true });
  // ajv-formats is CommonJS with a default export.
  (require('ajv-formats') as (a: Ajv) => Ajv)(shared);
  return shared;
}

/** `/devices/1/attributes/0` → `devices[1].attributes[0]`. */
export function keyOf(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  let key = '';
  for (const raw of parts) {
    const p = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    key += /^\d+$/.test(p) ? `[${p}]` : key === '' ? p : `.${p}`;
  }
  return key || '(file)';
}

function problemOf(e: ErrorObject): ContractProblem {
  const schema = e.parentSchema as { message?: string; hint?: string } | undefined;
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { key: keyOf(e.instancePath, missing), message: 'missing' };
  }
  const hint = schema?.hint !== undefined ? { hint: schema.hint } : {};
  if (schema?.message !== undefined)
    return { key: keyOf(e.instancePath), message: schema.message.replace('{value}', JSON.stringify(e.data)), ...hint };
  return { key: keyOf(e.instancePath), message: e.message ?? 'is not valid', ...hint };
}

/** ajv reports an anyOf failure once per branch and once for the anyOf: keep one per key. */
function located(errors: readonly ErrorObject[]): ContractProblem[] {
  const seen = new Set<string>();
  const out: ContractProblem[] = [];
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  for (const e of errors) {
    // A branch of an anyOf that failed is noise beside the anyOf's own message.
    if (e.keyword !== 'anyOf' && [...anyOfPaths].some((p) => e.instancePath === p && e.schemaPath.includes('anyOf')))
      continue;
    const p = problemOf(e);
    if (seen.has(p.key)) continue;
    seen.add(p.key);
    out.push(p);
  }
  return out;
}

/** What every contract offers, however it validates: the value's type is T. */
export interface ValueContract<T> {
  /** What the value is, for messages: "the testbed description". */
  readonly what: string;
  /** Whether `value` satisfies the contract (a type guard). */
  is(value: unknown): value is T;
  /** Every problem with `value`, located; [] when it is valid. */
  problems(value: unknown): ContractProblem[];
  /** `value` itself when valid; else a ConfigError naming `file` and every problem. */
  check(value: unknown, file: string): T;
  /** Parses JSON text and checks it; a ConfigError names `file` and what is wrong. */
  parse(text: string, file: string): T;
  /** The value from JSON text, or undefined when the text is not JSON or not valid (torn writes). */
  tryParse(text: string): T | undefined;
}

export interface Contract<S extends TSchema> extends ValueContract<Static<S>> {
  readonly schema: S;
}

/**
 * A contract from its `problems` (and, when there is a quicker yes/no, `is`): compiled by ajv
 * here, or judged from plain data (judged-contract.ts).
 */
export function contractOf<T>(
  what: string,
  problems: (value: unknown) => ContractProblem[],
  valid: (value: unknown) => boolean = (value) => problems(value).length === 0,
): ValueContract<T> {
  const toConfigError = (file: string, list: readonly ContractProblem[]) =>
    new ConfigError(list.map((p): ConfigProblem => ({ file, ...p })));
  const check = (value: unknown, file: string): T => {
    const list = problems(value);
    if (list.length > 0) throw toConfigError(file, list);
    return value as T;
  };
  return {
    what,
    is: (value): value is T => valid(value),
    problems,
    check,
    parse(text, file) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (err) {
        throw toConfigError(file, [{ key: '(file)', message: `${what} is not valid JSON: ${(err as Error).message}` }]);
      }
      return check(value, file);
    },
    tryParse(text) {
      try {
        const value: unknown = JSON.parse(text);
        return valid(value) ? (value as T) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export function defineContract<S extends TSchema>(what: string, schema: S): Contract<S> {
  let compiled: ValidateFunction | undefined;
  const validate = (value: unknown): boolean => (compiled ??= compiler().compile(schema))(value);
  const problems = (value: unknown): ContractProblem[] => (validate(value) ? [] : located(compiled!.errors ?? []));
  return { ...contractOf<Static<S>>(what, problems, validate), schema };
}

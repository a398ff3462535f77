// The judge of the formats people write (the factory config, test definitions, job files): walks
// a TypeBox schema and a parsed value together and reports every shape problem at once, located
// by a dotted key (`testbed.gamma.devices.x.pools[0].url`), in words a person acts on, with
// did-you-mean hints taken from the schema's own names. It returns the value pruned of what was
// wrong, so that the format's normaliser and its cross-key rules still run over the rest (every
// problem in one run). The schema is the published one (doc/schemas/); what only the judge reads
// (durations, wording) rides on a symbol, which JSON never shows. A walker rather than ajv: it
// picks union branches by their discriminator ("unknown check"), and costs no compilation at start.
import type { TSchema } from '@sinclair/typebox';
import { didYouMean } from '../did-you-mean.js';
import { MAX_DURATION_MS, parseDuration, formatDuration } from '../duration.js';
import type { ContractProblem } from './validate.js';

const JUDGE = Symbol.for('mvm.judge');

/** What the judge reads beside the JSON Schema keywords. */
export interface Judgement {
  /** Replaces the default message when this value is wrong; `{value}` stands for the value. */
  message?: string;
  /** Replaces the default hint. */
  hint?: string;
  /** For enums and discriminated unions: `unknown <what> "x"`. */
  what?: string;
  /** A duration ("30s", "5m", a number of seconds): its bounds in ms. */
  duration?: { min?: number; max?: number };
  /** For a record whose keys have a pattern: the message for a key that does not fit. */
  keyMessage?: string;
}

/** The schema with the judge's annotations (kept by TypeBox's clones, dropped from JSON). */
export function judged<T extends TSchema>(schema: T, judgement: Judgement): T {
  const own = (schema as unknown as Record<symbol, Judgement | undefined>)[JUDGE];
  return Object.assign(schema, { [JUDGE]: { ...own, ...judgement } });
}

/** A schema as plain data (shared/contracts/judged/): the judge's annotations under "x-judge". */
export type JudgedSchema = Record<string, unknown>;

/** `schema` as plain data: JSON, with the judge's annotations kept under "x-judge". */
export function judgedData(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(judgedData);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = judgedData(v);
  const j = (schema as Record<symbol, Judgement | undefined>)[JUDGE];
  if (j) out['x-judge'] = j;
  return out;
}

function judgementOf(schema: TSchema): Judgement {
  const own =
    (schema as unknown as Record<symbol, Judgement | undefined>)[JUDGE] ??
    (schema as unknown as { 'x-judge'?: Judgement })['x-judge'] ??
    {};
  // The cross-process contracts carry their wording as plain keywords (ajv reads them too).
  const { message, hint } = schema as { message?: unknown; hint?: unknown };
  return {
    ...(typeof message === 'string' ? { message } : {}),
    ...(typeof hint === 'string' ? { hint } : {}),
    ...own,
  };
}

/** How hints spell an example: a TOML key (`key = "…"`) or a YAML one (`key: …`). */
export type Syntax = 'toml' | 'yaml';

export interface JudgeOptions {
  /** The key of the value itself ('' at the top of a file). */
  at?: string;
  syntax?: Syntax;
}

export interface Verdict<T = unknown> {
  problems: ContractProblem[];
  /**
   * The value without the parts that were wrong (undefined when the value itself is): a wrong key
   * is left out of its table, a wrong entry of a list of tables leaves a hole (undefined).
   */
  value: T | undefined;
}

export type Table = Record<string, unknown>;

export function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export function typeName(v: unknown, syntax: Syntax = 'toml'): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  if (isTable(v)) return syntax === 'toml' ? 'a table' : 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a float';
  return `a ${typeof v}`;
}

/** `prefix.key`, the key quoted when it is not a bare word. */
export function joinKey(prefix: string, key: string): string {
  const k = /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
  return prefix ? `${prefix}.${k}` : k;
}

const lastKey = (at: string) => at.replace(/^.*\./, '').replace(/\[\d+\]$/, '') || at;

/** Judges `value` against `schema`: every shape problem, and the value pruned of them. */
export function judge<T = unknown>(
  schema: TSchema | JudgedSchema,
  value: unknown,
  opts: JudgeOptions = {},
): Verdict<T> {
  const walker = new Walker(opts.syntax ?? 'toml');
  const pruned = walker.walk(schema as Schema, value, opts.at ?? '');
  return { problems: walker.problems, value: pruned as T | undefined };
}

type Schema = TSchema & {
  type?: string;
  const?: unknown;
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  items?: Schema;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};

/** Pruned away: the value was wrong. */
const BAD = undefined;

class Walker {
  readonly problems: ContractProblem[] = [];
  constructor(readonly syntax: Syntax) {}

  private add(at: string, message: string, hint?: string, j: Judgement = {}, v?: unknown): undefined {
    const h = j.hint ?? hint;
    // A message of the schema's may show the value: `{value} is not an absolute path`.
    const own = j.message?.replace('{value}', JSON.stringify(v));
    this.problems.push({ key: at || '(file)', message: own ?? message, ...(h ? { hint: h } : {}) });
    return BAD;
  }

  private example(at: string, kind: 'string' | 'boolean' | 'strings' | 'table', v?: unknown): string | undefined {
    // The whole file, or an entry of a list, has no key to write.
    if (at === '' || at.endsWith(']')) return undefined;
    const key = lastKey(at);
    const toml = this.syntax === 'toml';
    const set = (x: string) => (toml ? `${key} = ${x}` : `${key}: ${x}`);
    switch (kind) {
      case 'string':
        return `write it in quotes: ${set(JSON.stringify(String(v ?? '…')))}`;
      case 'boolean':
        return `write ${set('true')} or ${set('false')} (no quotes)`;
      case 'strings':
        return `write ${set('["a", "b"]')}`;
      case 'table':
        return toml ? `write [${at}] or ${key} = { … }` : `write ${key}: { … }`;
    }
  }

  walk(schema: Schema, v: unknown, at: string): unknown {
    const j = judgementOf(schema);
    if (j.duration) return this.duration(schema, v, at, j);
    if (schema.anyOf) return this.union(schema, v, at, j);
    if (schema.const !== undefined)
      return v === schema.const
        ? v
        : this.add(at, `must be ${JSON.stringify(schema.const)}, not ${JSON.stringify(v)}`, undefined, j, v);
    switch (schema.type) {
      case 'object':
        return this.object(schema, v, at, j);
      case 'array':
        return this.array(schema, v, at, j);
      case 'string':
        return this.string(schema, v, at, j);
      case 'integer':
      case 'number':
        return this.number(schema, v, at, j);
      case 'boolean':
        return typeof v === 'boolean'
          ? v
          : this.add(at, `must be true or false, not ${typeName(v, this.syntax)}`, this.example(at, 'boolean'), j);
      default:
        return v; // unknown: anything goes
    }
  }

  private duration(schema: Schema, v: unknown, at: string, j: Judgement): unknown {
    const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
    const { min, max } = j.duration ?? {};
    if (ms === undefined)
      return this.add(
        at,
        `is not a duration: ${JSON.stringify(v)}`,
        'write a number with a unit, e.g. "500ms", "30s", "5m", "1h30m" (a bare number is seconds)',
        j,
      );
    // Timers fire at once past 2^31-1 ms: a longer duration would mean "now", not "never".
    if (max !== undefined && ms > max)
      return this.add(
        at,
        `is too long (${JSON.stringify(v)}); the maximum is ${max === MAX_DURATION_MS ? '24d' : formatDuration(max)}`,
      );
    if (min !== undefined && ms < min)
      return this.add(
        at,
        `is too short (${ms} ms); the minimum is ${min} ms`,
        min === 1 ? 'give a duration above 0, e.g. "30s"' : undefined,
      );
    return v;
  }

  private union(schema: Schema, v: unknown, at: string, j: Judgement): unknown {
    const branches = schema.anyOf!;
    if (branches.every((b) => b.const !== undefined)) {
      const consts = branches.map((b) => b.const);
      if (consts.includes(v)) return v;
      const names = consts.map(String);
      const guess = typeof v === 'string' ? didYouMean(v, names) : undefined;
      return this.add(
        at,
        j.what
          ? `unknown ${j.what} ${JSON.stringify(v)}`
          : `must be ${consts.map((c) => JSON.stringify(c)).join(' or ')}, not ${JSON.stringify(v)}`,
        guess ? `did you mean "${guess}"?` : `use one of: ${names.join(', ')}`,
        j,
        v,
      );
    }
    const disc = discriminator(branches);
    if (disc !== undefined && isTable(v)) {
      const tag = v[disc];
      const branch =
        tag === undefined
          ? branches.find((b) => !(b.required ?? []).includes(disc))
          : branches.find((b) => b.properties![disc].const === tag);
      if (branch) return this.walk(branch, v, at);
      const names = branches.map((b) => String(b.properties![disc].const));
      if (tag === undefined) return this.add(joinKey(at, disc), 'missing', `one of: ${names.join(', ')}`);
      const guess = typeof tag === 'string' ? didYouMean(tag, names) : undefined;
      return this.add(
        joinKey(at, disc),
        `unknown ${j.what ?? disc} ${JSON.stringify(tag)}`,
        j.hint ?? (guess ? `did you mean "${guess}"? ` : '') + `one of: ${names.join(', ')}`,
      );
    }
    // The first branch that takes the value; else what the branch of the value's own type says.
    for (const b of branches) {
      const trial = new Walker(this.syntax);
      const out = trial.walk(b, v, at);
      if (trial.problems.length === 0) return out;
    }
    const sameType = branches.find((b) => sameKind(b, v));
    if (sameType && !j.message) return this.walk(sameType, v, at);
    const kinds = [...new Set(branches.map((b) => kindName(b, this.syntax)))];
    const list = kinds.length > 1 ? `${kinds.slice(0, -1).join(', ')} or ${kinds.at(-1)}` : kinds[0];
    return this.add(at, `must be ${list}, not ${typeName(v, this.syntax)}`, undefined, j);
  }

  private object(schema: Schema, v: unknown, at: string, j: Judgement): unknown {
    const noun = this.syntax === 'toml' ? 'a table' : 'an object';
    if (!isTable(v))
      return this.add(at, `must be ${noun}, not ${typeName(v, this.syntax)}`, this.example(at, 'table'), j);
    const props = schema.properties ?? {};
    const patterns = Object.entries(schema.patternProperties ?? {}).map(([p, s]) => [new RegExp(p, 'u'), s] as const);
    const out: Table = {};
    for (const [k, x] of Object.entries(v)) {
      const key = joinKey(at, k);
      const own = props[k];
      const byPattern = own ? undefined : patterns.find(([re]) => re.test(k))?.[1];
      const child =
        own ?? byPattern ?? (isSchema(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (child) {
        if (x === undefined) continue;
        const kept = this.walk(child, x, key);
        if (kept !== BAD) out[k] = kept;
        continue;
      }
      if (schema.additionalProperties !== false && patterns.length === 0) {
        out[k] = x;
        continue;
      }
      if (j.keyMessage) {
        this.add(key, j.keyMessage);
        continue;
      }
      const names = Object.keys(props);
      const guess = didYouMean(k, names);
      this.add(key, 'unknown key', guess ? `did you mean \`${guess}\`?` : `allowed here: ${names.join(', ')}`);
    }
    for (const k of schema.required ?? []) {
      if (v[k] !== undefined) continue;
      const child = props[k];
      this.add(joinKey(at, k), 'missing', child ? this.missingHint(child, joinKey(at, k)) : undefined);
    }
    return out;
  }

  private missingHint(child: Schema, at: string): string | undefined {
    const j = judgementOf(child);
    if (j.hint) return j.hint;
    const key = lastKey(at);
    const set = (x: string) => (this.syntax === 'toml' ? `\`${key} = ${x}\`` : `\`${key}: ${x}\``);
    if (child.type === 'string') return `add ${set('"…"')}`;
    if (child.type === 'array' && child.items?.type === 'string') return `add ${set('["…"]')}`;
    return undefined;
  }

  private array(schema: Schema, v: unknown, at: string, j: Judgement): unknown {
    const ofStrings = schema.items?.type === 'string';
    const odd = Array.isArray(v) && ofStrings ? v.find((x) => typeof x !== 'string') : undefined;
    if (!Array.isArray(v) || odd !== undefined)
      return this.add(
        at,
        `must be an array${ofStrings ? ' of strings' : ''}, not ${odd !== undefined ? `an array with ${typeName(odd, this.syntax)}` : typeName(v, this.syntax)}`,
        ofStrings ? this.example(at, 'strings') : undefined,
        j,
      );
    if (schema.minItems !== undefined && v.length < schema.minItems)
      return this.add(
        at,
        schema.minItems === 1 ? 'must not be empty' : `needs at least ${schema.minItems}`,
        undefined,
        j,
      );
    if (!schema.items) return v;
    const out = v.map((x, i) => this.walk(schema.items!, x, `${at}[${i}]`));
    // A list of words is wrong as a whole; a list of tables keeps its good entries in their places
    // (a hole where one was wrong), so that the rules still see them under their own index.
    const scalars = schema.items.type !== 'object' && !schema.items.anyOf?.some((b) => b.type === 'object');
    return scalars && out.includes(BAD) ? BAD : out;
  }

  private string(schema: Schema, v: unknown, at: string, j: Judgement): unknown {
    if (typeof v !== 'string')
      return this.add(at, `must be a string, not ${typeName(v, this.syntax)}`, this.example(at, 'string', v), j);
    if (schema.minLength !== undefined && schema.minLength > 0 && v.trim() === '')
      return this.add(at, 'must not be empty', undefined, j);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(v))
      return this.add(at, `${JSON.stringify(v)} does not have the expected form`, undefined, j, v);
    return v;
  }

  private number(schema: Schema, v: unknown, at: string, j: Judgement): unknown {
    const integer = schema.type === 'integer';
    const what = integer ? 'an integer' : 'a number';
    const { minimum: lo, maximum: hi, exclusiveMinimum: above } = schema;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (!integer || Number.isInteger(v)) &&
      (lo === undefined || v >= lo) &&
      (hi === undefined || v <= hi) &&
      (above === undefined || v > above);
    if (ok) return v;
    const range =
      lo !== undefined && hi !== undefined
        ? ` from ${lo} to ${hi}`
        : above !== undefined
          ? ` above ${above}`
          : lo !== undefined
            ? ` of at least ${lo}`
            : hi !== undefined
              ? ` of at most ${hi}`
              : '';
    return this.add(
      at,
      `must be ${what}${range}, not ${typeof v === 'number' ? v : typeName(v, this.syntax)}`,
      undefined,
      j,
    );
  }
}

function isSchema(x: unknown): x is Schema {
  return typeof x === 'object' && x !== null;
}

/** The property every branch pins to a constant: `type` of a check, `mode` of an agent. */
function discriminator(branches: Schema[]): string | undefined {
  if (!branches.every((b) => b.type === 'object' && b.properties)) return undefined;
  const first = Object.keys(branches[0].properties!);
  return first.find((k) => branches.every((b) => b.properties![k]?.const !== undefined));
}

function sameKind(b: Schema, v: unknown): boolean {
  if (b.anyOf) return b.anyOf.some((x) => sameKind(x, v));
  switch (b.type) {
    case 'array':
      return Array.isArray(v);
    case 'object':
      return isTable(v);
    case 'integer':
    case 'number':
      return typeof v === 'number';
    default:
      return typeof v === b.type;
  }
}

function kindName(b: Schema, syntax: Syntax): string {
  if (b.anyOf) return b.anyOf.map((x) => kindName(x, syntax)).join(', ');
  switch (b.type) {
    case 'array':
      return b.items?.type === 'string' ? 'an array of strings' : 'an array';
    case 'object':
      return syntax === 'toml' ? 'a table' : 'an object';
    case 'integer':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    default:
      return `a ${b.type ?? 'value'}`;
  }
}

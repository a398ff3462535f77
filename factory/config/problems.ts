// Collects configuration problems so that one run reports every one of them, each with the file,
// the dotted key and a hint. The factory config's shape is judged by its schema
// (shared/contracts/judge.ts); the typed readers below serve the fleet's sections, which have none.
import type { ConfigProblem } from '../../shared/errors.js';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../shared/duration.js';
import { didYouMean } from '../../shared/did-you-mean.js';
import { isTable, joinKey, typeName, type Table } from '../../shared/contracts/judge.js';

export { MAX_DURATION_MS, isTable, typeName, type Table };
export { didYouMean, editDistance } from '../../shared/did-you-mean.js';

/** A duration the schema judged ("30s", 2), in ms; `fallback` when absent. */
export function msOf(v: unknown, fallback: number): number {
  return v === undefined ? fallback : (parseDuration(v as string | number) ?? fallback);
}

export class Problems {
  readonly list: ConfigProblem[] = [];
  /** Not errors, but worth saying at every start (e.g. a token file others can read). */
  readonly warnings: ConfigProblem[] = [];
  constructor(readonly file: string) {}

  warn(key: string, message: string, hint?: string): void {
    this.warnings.push({ file: this.file, key, message, ...(hint ? { hint } : {}) });
  }

  add(key: string, message: string, hint?: string): void {
    this.list.push({ file: this.file, key, message, ...(hint ? { hint } : {}) });
  }

  /** Reports every key of `table` not in `allowed`, suggesting the closest allowed key. */
  unknownKeys(table: Table, prefix: string, allowed: readonly string[]): void {
    for (const k of Object.keys(table)) {
      if (allowed.includes(k)) continue;
      const guess = didYouMean(k, allowed);
      this.add(
        join(prefix, k),
        'unknown key',
        guess ? `did you mean \`${guess}\`?` : `allowed here: ${allowed.join(', ')}`,
      );
    }
  }

  string(
    table: Table,
    prefix: string,
    key: string,
    opts: { required?: boolean; nonEmpty?: boolean } = {},
  ): string | undefined {
    const v = table[key];
    if (v === undefined) {
      if (opts.required) this.add(join(prefix, key), 'missing', `add \`${key} = "…"\``);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(
        join(prefix, key),
        `must be a string, not ${typeName(v)}`,
        `write it in quotes: ${key} = "${String(v)}"`,
      );
      return undefined;
    }
    if (opts.nonEmpty && v.trim() === '') {
      this.add(join(prefix, key), 'must not be empty');
      return undefined;
    }
    return v;
  }

  boolean(table: Table, prefix: string, key: string): boolean | undefined {
    const v = table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.add(
        join(prefix, key),
        `must be true or false, not ${typeName(v)}`,
        `write ${key} = true or ${key} = false (no quotes)`,
      );
      return undefined;
    }
    return v;
  }

  integer(table: Table, prefix: string, key: string, min: number, max: number): number | undefined {
    const v = table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add(
        join(prefix, key),
        `must be an integer from ${min} to ${max}, not ${typeof v === 'number' ? v : typeName(v)}`,
      );
      return undefined;
    }
    return v;
  }

  /** Any finite number (integer or float) from min to max. */
  number(table: Table, prefix: string, key: string, min: number, max: number): number | undefined {
    const v = table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.add(
        join(prefix, key),
        `must be a number from ${min} to ${max}, not ${typeof v === 'number' ? v : typeName(v)}`,
      );
      return undefined;
    }
    return v;
  }

  stringArray(
    table: Table,
    prefix: string,
    key: string,
    opts: { required?: boolean; nonEmpty?: boolean } = {},
  ): string[] | undefined {
    const v = table[key];
    if (v === undefined) {
      if (opts.required) this.add(join(prefix, key), 'missing', `add \`${key} = ["…"]\``);
      return undefined;
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      this.add(join(prefix, key), `must be an array of strings, not ${typeName(v)}`, `write ${key} = ["a", "b"]`);
      return undefined;
    }
    if (opts.nonEmpty && v.length === 0) {
      this.add(join(prefix, key), 'must not be empty');
      return undefined;
    }
    return v as string[];
  }

  table(table: Table, prefix: string, key: string): Table | undefined {
    const v = table[key];
    if (v === undefined) return undefined;
    if (!isTable(v)) {
      this.add(
        join(prefix, key),
        `must be a table, not ${typeName(v)}`,
        `write [${join(prefix, key)}] or ${key} = { … }`,
      );
      return undefined;
    }
    return v;
  }

  /** A duration ("30s", "5m", "1h30m", or a number of seconds), in ms. */
  duration(
    table: Table,
    prefix: string,
    key: string,
    fallbackMs: number,
    opts: { min?: number; max?: number } = {},
  ): number {
    const v = table[key];
    if (v === undefined) return fallbackMs;
    const ms = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
    if (ms === undefined) {
      this.add(
        join(prefix, key),
        `is not a duration: ${JSON.stringify(v)}`,
        'write a number with a unit, e.g. "500ms", "30s", "5m", "1h30m" (a bare number is seconds)',
      );
      return fallbackMs;
    }
    if (ms > (opts.max ?? MAX_DURATION_MS)) {
      // Timers fire at once past 2^31-1 ms: a longer duration would mean "now", not "never".
      // (A duration that is no timer, such as a retention, passes its own `max`.)
      this.add(
        join(prefix, key),
        `is too long (${JSON.stringify(v)}); the maximum is ${opts.max === undefined ? '24d' : formatDuration(opts.max)}`,
      );
      return fallbackMs;
    }
    if (opts.min !== undefined && ms < opts.min) {
      this.add(join(prefix, key), `is too short (${ms} ms); the minimum is ${opts.min} ms`);
      return fallbackMs;
    }
    return ms;
  }
}

export const join = joinKey;

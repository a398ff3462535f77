// Building blocks of the file formats people write (the factory config, test definitions, job
// files): their published JSON Schemas (doc/schemas/, editor completion) and the judge's input.
import { Type, type TObject, type TSchema } from '@sinclair/typebox';
import { judged } from './judge.js';

import { MAX_DURATION_MS } from '../duration.js';

export { MAX_DURATION_MS };

/**
 * A duration as people write it: "500ms", "30s", "5m", "1h30m", "2d", or a number of seconds.
 * `bounds` (ms) are the judge's: the pattern cannot say them.
 */
export const Duration = (
  description: string,
  extra: Record<string, unknown> = {},
  bounds: { min?: number; max?: number } = { max: MAX_DURATION_MS },
) =>
  judged(
    Type.Union(
      [
        Type.String({
          pattern: '^\\s*(\\d+|(\\d+(\\.\\d+)?(ms|s|m|h|d))+)\\s*$',
          examples: ['500ms', '30s', '5m', '1h30m'],
        }),
        Type.Number({ minimum: 0 }),
      ],
      { description, ...extra },
    ),
    { duration: bounds },
  );

/**
 * A closed table (unknown keys are errors) whose keys are optional but for `required`. Typed
 * loosely: the normalisers read the judged value by key.
 */
export function Closed(
  properties: Record<string, TSchema>,
  description: string,
  required: readonly string[] = [],
  options: Record<string, unknown> = {},
): TObject {
  const props: Record<string, TSchema> = {};
  for (const [k, v] of Object.entries(properties)) props[k] = required.includes(k) ? v : Type.Optional(v);
  return Type.Object(props, { description, additionalProperties: false, ...options });
}

export const Text = (description: string, extra: Record<string, unknown> = {}) =>
  Type.String({ description, ...extra });

/** A string that must not be blank. */
export const Word = (description: string, extra: Record<string, unknown> = {}) =>
  Type.String({ description, minLength: 1, ...extra });

export const Strings = (description: string, extra: Record<string, unknown> = {}) =>
  Type.Array(Type.String(), { description, ...extra });

/** One of some words; `what` names it in the error: `unknown driver "axos"`. */
export const OneOf = (words: readonly string[], description: string, what?: string) =>
  judged(
    Type.Union(
      words.map((w) => Type.Literal(w)),
      { description },
    ),
    what ? { what } : {},
  );

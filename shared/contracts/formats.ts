// Building blocks of the file formats people write (the factory config, test definitions), for
// their published JSON Schemas (doc/schemas/, editor completion).
import { Type, type TObject, type TSchema } from '@sinclair/typebox';

/** A duration as people write it: "500ms", "30s", "5m", "1h30m", "2d", or a number of seconds. */
export const Duration = (description: string, extra: Record<string, unknown> = {}) =>
  Type.Union(
    [
      Type.String({
        pattern: '^\\s*(\\d+|(\\d+(\\.\\d+)?(ms|s|m|h|d))+)\\s*$',
        examples: ['500ms', '30s', '5m', '1h30m'],
      }),
      Type.Number({ minimum: 0 }),
    ],
    { description, ...extra },
  );

/**
 * A closed table (unknown keys are errors, as the validators say) whose keys are optional but
 * for `required`. Typed loosely: these schemas are published, not used to type values.
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

export const Strings = (description: string, extra: Record<string, unknown> = {}) =>
  Type.Array(Type.String(), { description, ...extra });

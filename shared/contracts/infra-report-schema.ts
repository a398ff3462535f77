// The shape of an infra-failures.jsonl entry, as a TypeBox schema: the type (Static<>) and the
// source of the plain-data schema the runner and the factory judge by (shared/contracts/judged/,
// `npm run gen:schemas`), so that a runner loads neither TypeBox nor ajv (infra-report.ts).
import { Type, type Static } from '@sinclair/typebox';
import { INFRA_COMMANDS, INFRA_REASONS } from './infra-report.js';

/** ISO 8601 with a time zone, as `new Date().toISOString()` writes it (the judge reads the pattern). */
const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';

export const InfraFailureSchema = Type.Object({
  /** ISO 8601 time of the failure. */
  at: Type.String({ format: 'date-time', pattern: ISO_TIME }),
  command: Type.Union(INFRA_COMMANDS.map((c) => Type.Literal(c))),
  device: Type.String({ minLength: 1 }),
  reason: Type.Union(INFRA_REASONS.map((r) => Type.Literal(r))),
  message: Type.String(),
});

export type InfraFailure = Static<typeof InfraFailureSchema>;

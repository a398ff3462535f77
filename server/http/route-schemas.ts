// Per-route request schemas: each route that takes a JSON body declares its buildomat operation's
// body schema (strict: unknown fields refused, so a typo is reported), and the app validates it
// with located messages, at most a few at once. Routes type their bodies with the same operation's
// type from shared/api/types.ts. A route the spec gives a JSON body but that declares no schema
// is refused when the app is built, so none can slip through unvalidated.
import type { FastifyInstance, FastifySchemaCompiler, RouteOptions } from 'fastify';
import { badRequest } from './errors.js';
import { strictValidator } from './validate.js';

/** `schema` for a route: the JSON body of the buildomat operation `operationId`. */
export function requestBody(operationId: string): { body: object } {
  const op = strictValidator().operations.find((o) => o.operationId === operationId);
  if (!op || op.requestContentType !== 'application/json' || op.requestSchema === undefined)
    throw new Error(`the buildomat spec has no operation ${operationId} with a JSON body`);
  return { body: op.requestSchema as object };
}

/** Validates a body against its route's schema; a failure is a 400 naming the first few problems. */
const compileBody: FastifySchemaCompiler<unknown> =
  ({ schema }) =>
  (data: unknown) => {
    const problems = strictValidator().check(schema, data);
    if (problems.length === 0) return { value: data };
    // A few problems say what is wrong; 200,000 of them (one per bad array item) would not.
    const shown = problems.slice(0, 5).map((p) => p.slice(0, 300));
    const more =
      problems.length > shown.length ? `; and ${problems.length - shown.length} more problems like these` : '';
    return { error: badRequest(`invalid request body: ${shown.join('; ')}${more}`) };
  };

/** Installs the body validator and the check that every JSON-body route declares its schema. Call before the routes. */
export function useRouteSchemas(app: FastifyInstance): void {
  const validator = strictValidator();
  app.setValidatorCompiler(compileBody);
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      const op = validator.find(method, route.url.replace(/:(\w+)/g, '{$1}'));
      const declared = (route.schema as { body?: unknown } | undefined)?.body;
      if (op?.requestContentType === 'application/json' && declared === undefined)
        throw new Error(
          `${method} ${route.url}: ${op.operationId} takes a JSON body; declare schema: requestBody('${op.operationId}')`,
        );
    }
  });
}

// GET /api/labs: every lab the fleet watches, each with whether its factory answered, and all their
// testbeds together (each with `lab` and `ref`: NAME, or NAME@LAB when more than one lab has the
// name). A lab that does not answer is listed as unreachable; the others' testbeds still are.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './api/errors.js';
import type { FleetLabs } from './labs.js';

export function labsRoute(labs: FleetLabs) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { lab?: string } }>(
      '/api/labs',
      {
        config: { op: { summary: "list every lab's testbeds, and which labs answer" } },
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { lab: { type: 'string', description: 'only this lab ("default" is [lab])' } },
          },
        },
      },
      async (req) => {
        const lab = req.query.lab;
        if (lab !== undefined && !labs.names().includes(lab))
          throw new HttpError(
            404,
            `no lab named "${lab}"`,
            'NotFound',
            labs.names().length > 0
              ? `the labs are ${labs.names().join(', ')}`
              : 'add [lab] or [lab.NAME] url and token to the fleet config',
            'lab',
          );
        return labs.list(lab);
      },
    );
  };
}

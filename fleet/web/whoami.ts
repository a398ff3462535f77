// GET /api/whoami: who the caller's token is, so the web UI shows a read-only token no action
// buttons (the API refuses their actions anyway). For a fleet API that has no such route yet.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebPrincipal } from './lab-proxy.js';

export async function whoamiRoute(
  app: FastifyInstance,
  opts: { authenticate(req: FastifyRequest): WebPrincipal | Promise<WebPrincipal> },
): Promise<void> {
  app.get('/api/whoami', async (req, reply) => {
    try {
      const who = await opts.authenticate(req);
      return { name: who.name, admin: who.admin, readOnly: who.readOnly };
    } catch (e) {
      const err = e as Error & { statusCode?: number; hint?: string };
      return reply
        .code(err.statusCode ?? 401)
        .send({ message: err.message, ...(err.hint ? { hint: err.hint } : {}), error_code: 'Unauthorized' });
    }
  });
}

// GET /0/jobs/{job}/watch: buildomat's server-sent event stream. Events: `state` (data: the job
// state, sent when it changes), `job` (data: a JobEvent as JSON), `complete` (data: "-") once the
// job ended and every event was sent. Each carries `id: seq-N` (the last job event sent), and a
// reconnecting client's `Last-Event-ID: seq-N` resumes after N. Comments keep idle streams open.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { queryInt } from '../http/params.js';
import { getJob, jobState } from '../model/jobs.js';
import { listEvents } from '../model/events.js';

const KEEPALIVE_MS = 15_000;

export async function watchJob(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  id: string,
): Promise<void> {
  let seq = Math.max(0, (queryInt(req, 'minseq') ?? 1) - 1);
  const lei = req.headers['last-event-id'];
  if (typeof lei === 'string' && /^seq-\d+$/.test(lei)) seq = Number(lei.slice(4));

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-request-id': String(req.id),
  });
  const closed = new AbortController();
  res.once('close', () => closed.abort());
  const signal = AbortSignal.any([closed.signal, ctx.stopping]);
  const send = (event: string, data: string) => res.write(`id: seq-${seq}\nevent: ${event}\ndata: ${data}\n\n`);

  let lastState = '';
  try {
    while (!signal.aborted) {
      const job = getJob(ctx, id);
      const state = jobState(job);
      if (state !== lastState) {
        send('state', state);
        lastState = state;
      }
      const evs = listEvents(ctx, id, seq + 1, 100);
      if (evs.length > 0) {
        for (const ev of evs) {
          seq = ev.seq;
          send('job', JSON.stringify(ev));
        }
        continue;
      }
      if (job.complete) {
        send('complete', '-');
        break;
      }
      const waited = Date.now();
      await ctx.bus.wait(`job:${id}`, KEEPALIVE_MS, signal);
      if (!signal.aborted && Date.now() - waited >= KEEPALIVE_MS) res.write(': keepalive\n\n');
    }
  } catch (err) {
    req.log.warn({ err, job: id }, 'watch stream ended by an error');
  } finally {
    res.end();
  }
}

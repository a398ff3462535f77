// Sends a stored file, honouring a single `Range: bytes=a-b` request (206, or 416 when unsatisfiable).
import { createReadStream } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, notFound } from './errors.js';

export async function sendFile(
  req: FastifyRequest,
  reply: FastifyReply,
  path: string,
  size: number | undefined,
): Promise<FastifyReply> {
  if (size === undefined) throw notFound('file body missing on the server');
  void reply.header('content-type', 'application/octet-stream').header('accept-ranges', 'bytes');
  const range = req.headers.range;
  if (!range) {
    void reply.header('content-length', String(size));
    return reply.send(createReadStream(path));
  }
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start: number;
  let end: number;
  if (!m || (m[1] === '' && m[2] === '')) {
    throw new HttpError(
      416,
      `unsupported Range ${JSON.stringify(range)}: use one range, bytes=START-END`,
      'RangeNotSatisfiable',
    );
  }
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    void reply.header('content-range', `bytes */${size}`);
    throw new HttpError(416, `range ${range} is outside the file (${size} bytes)`, 'RangeNotSatisfiable');
  }
  void reply
    .code(206)
    .header('content-range', `bytes ${start}-${end}/${size}`)
    .header('content-length', String(end - start + 1));
  return reply.send(createReadStream(path, { start, end }));
}

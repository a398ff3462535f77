// The cgminer API transport: one TCP connection per request, a reply terminated by a NUL byte
// (or the socket closing), and never two requests to one device at the same time — every request
// for an address goes through that address's queue, shared by every driver in the process.
import { Socket } from 'node:net';
import PQueue from 'p-queue';
import { isAbortError } from '../../../shared/errors.js';
import { abortError } from '../../../shared/sleep.js';
import { DriverError } from '../errors.js';
import { withDeviceLock } from './device-lock.js';
import { CgParseError, parseReply, type CgReply } from './parse.js';

const queues = new Map<string, PQueue>();

function queueFor(address: string): PQueue {
  let q = queues.get(address);
  if (!q) {
    q = new PQueue({ concurrency: 1 });
    queues.set(address, q);
    q.on('idle', () => {
      if (q!.size === 0 && q!.pending === 0) queues.delete(address);
    });
  }
  return q;
}

export function parseHostPort(address: string, defaultPort = 4028): { host: string; port: number } {
  const a = address.replace(/^tcp:\/\//, '').trim();
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d+))?$/.exec(a);
  if (!m) throw new Error(`bad address ${JSON.stringify(address)}: expected HOST:PORT`);
  m[1] = m[1] ?? m[2];
  m[2] = m[3];
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port in ${JSON.stringify(address)}`);
  return { host: m[1], port };
}

export interface CgRequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Send `cmd|param` instead of JSON. */
  plain?: boolean;
  maxBytes?: number;
}

/** Sends one request on its own connection; resolves with the raw reply text (NUL stripped). */
export function rawRequest(
  device: string,
  host: string,
  port: number,
  command: string,
  parameter: string | undefined,
  opts: CgRequestOptions = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 4 * 1024 * 1024;
  const payload = opts.plain
    ? parameter === undefined
      ? command
      : `${command}|${parameter}`
    : JSON.stringify(parameter === undefined ? { command } : { command, parameter });
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(abortError(opts.signal));
    const socket = new Socket();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | undefined, text?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(text!);
    };
    const onAbort = () => finish(abortError(opts.signal));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      finish(
        new DriverError(
          device,
          'timeout',
          `${command}: no complete reply from ${host}:${port} within ${timeoutMs} ms (${size} bytes received)`,
        ),
      );
    }, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size > maxBytes)
        return finish(new DriverError(device, 'bad_reply', `${command}: reply larger than ${maxBytes} bytes`));
      if (c.includes(0)) {
        const all = Buffer.concat(chunks);
        finish(undefined, all.subarray(0, all.indexOf(0)).toString('utf8'));
      }
    });
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '')
        finish(
          new DriverError(device, 'unreachable', `${command}: ${host}:${port} closed the connection without a reply`),
        );
      else finish(undefined, text);
    });
    socket.on('close', () => {
      if (!done)
        finish(
          new DriverError(device, 'unreachable', `${command}: ${host}:${port} closed the connection without a reply`),
        );
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish(
        new DriverError(device, 'unreachable', `${command}: ${host}:${port}: ${err.code ?? err.message}`, {
          cause: err,
        }),
      );
    });
    socket.connect(port, host, () => {
      socket.write(payload);
    });
  });
}

/** One request through the device's queue, parsed (JSON repaired, or plain text). */
export async function cgRequest(
  device: string,
  address: string,
  command: string,
  parameter?: string,
  opts: CgRequestOptions = {},
): Promise<CgReply> {
  const { host, port } = parseHostPort(address);
  const key = `${host}:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  const text = await queueFor(key)
    .add(
      () => withDeviceLock(key, deadline, opts.signal, () => rawRequest(device, host, port, command, parameter, opts)),
      {
        signal: opts.signal,
      },
    )
    .catch((err) => {
      if (isAbortError(err) || opts.signal?.aborted) throw abortError(opts.signal);
      throw err;
    });
  try {
    return parseReply(text as string);
  } catch (err) {
    if (err instanceof CgParseError) {
      throw new DriverError(device, 'bad_reply', `${command}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

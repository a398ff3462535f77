// Listen addresses: HOST:PORT (port 0 picks a free one). Simulators only ever bind loopback.
import { MvmError } from '../../../shared/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** Parses `HOST:PORT`, `HOST` (with defaultPort) or a URL such as http://127.0.0.1:18601. */
export function parseListen(spec: string, defaultPort?: number): ListenAddress {
  let s = spec.trim();
  const url = /^[a-z]+:\/\//i.test(s) ? new URL(s) : undefined;
  if (url) s = url.port ? `${url.hostname}:${url.port}` : url.hostname;
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(s);
  const host = m?.[1];
  const portText = m?.[2];
  const port = portText !== undefined ? Number(portText) : defaultPort;
  if (!host || port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MvmError('USAGE', `invalid listen address "${spec}"`, {
      hint: `use HOST:PORT, for example 127.0.0.1:${defaultPort ?? 0} (port 0 picks a free port)`,
    });
  }
  if (!LOOPBACK.has(host)) {
    throw new MvmError('USAGE', `simulators listen on loopback only, not "${host}"`, { hint: 'use 127.0.0.1' });
  }
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

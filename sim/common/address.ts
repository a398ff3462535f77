// Listen addresses: HOST:PORT (port 0 picks a free one). Simulators only ever bind loopback.
import { MvmError } from '../../shared/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

/** Parses `HOST:PORT`, `HOST` (with defaultPort) or a URL such as http://127.0.0.1:18601. */
export function parseListen(spec: string, defaultPort?: number): ListenAddress {
  let s = spec.trim();
  if (/^[a-z]+:\/\//i.test(s)) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new MvmError('USAGE', `invalid listen address "${spec}"`, {
        hint: 'use HOST:PORT or http://HOST:PORT, for example 127.0.0.1:0',
      });
    }
    s = url.port ? `${url.hostname}:${url.port}` : url.hostname;
  }
  let host: string | undefined;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (bracketed) [, host, portText] = bracketed;
  else if (s.split(':').length === 2) [host, portText] = s.split(':') as [string, string];
  else host = s; // a bare host, or an IPv6 address without a port
  const port = portText !== undefined ? (/^\d{1,5}$/.test(portText) ? Number(portText) : NaN) : defaultPort;
  if (!host || port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MvmError('USAGE', `invalid listen address "${spec}"`, {
      hint: `use HOST:PORT, for example 127.0.0.1:${defaultPort ?? 0} (port 0 picks a free port)`,
    });
  }
  if (!LOOPBACK.has(host)) {
    throw new MvmError('USAGE', `simulators stay on loopback only, not "${host}"`, { hint: 'use 127.0.0.1' });
  }
  return { host: host === 'localhost' ? '127.0.0.1' : host, port };
}

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

/** The loopback network's broadcast address: every socket bound to 0.0.0.0 on the port gets it. */
export const LOOPBACK_BROADCAST = '127.255.255.255';

export interface Destination extends ListenAddress {
  /** Sent to the loopback broadcast address (the socket needs SO_BROADCAST). */
  broadcast: boolean;
}

/**
 * Where a simulator sends datagrams: `HOST:PORT` on loopback, or the loopback broadcast
 * address, which (as a real device's broadcast on its LAN) reaches every listener bound to
 * 0.0.0.0 on the port and not just one of them.
 */
export function parseDestination(spec: string, defaultPort: number): Destination {
  const host = spec.trim().split(':')[0];
  if (host === LOOPBACK_BROADCAST) {
    const { port } = parseListen(spec.trim().replace(LOOPBACK_BROADCAST, '127.0.0.1'), defaultPort);
    return { host: LOOPBACK_BROADCAST, port, broadcast: true };
  }
  if (host === '255.255.255.255' || host === '0.0.0.0') {
    throw new MvmError('USAGE', `simulators stay on loopback only, not "${host}"`, {
      hint: `to reach every listener on the port, broadcast on loopback: ${LOOPBACK_BROADCAST}:${defaultPort}`,
    });
  }
  return { ...parseListen(spec, defaultPort), broadcast: false };
}

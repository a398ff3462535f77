// Pool addresses as every driver needs them: `stratum+tcp://host:port` split into host and port.
import type { PoolConfig } from './types.js';

/** stratum+tcp://host:port → {scheme, host, port}; throws a plain Error saying what is wrong. */
export function splitPoolUrl(pool: PoolConfig): { scheme: string; host: string; port: number } {
  let rest = pool.url.trim();
  const scheme = /^([a-z0-9+.-]+):\/\//i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  rest = rest.replace(/\/+$/, '');
  const m = /^(.*):(\d+)$/.exec(rest);
  const host = m ? m[1] : rest;
  const port = pool.port ?? (m ? Number(m[2]) : undefined);
  if (!host || /[\s/]/.test(host) || port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`pool ${JSON.stringify(pool.url)}: needs a host and a port (stratum+tcp://host:port)`);
  }
  return { scheme: scheme ? scheme[1] : 'stratum+tcp', host, port };
}

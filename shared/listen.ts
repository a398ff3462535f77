// HOST:PORT listen addresses for mvm's HTTP servers (port 0 picks a free one).
import { MvmError } from './errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `HOST:PORT` or `[IPv6]:PORT`; `flag` names the option in the error. */
export function parseListen(text: string, flag = '--listen'): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new MvmError('USAGE', `${flag} ${JSON.stringify(text)}: expected HOST:PORT`, {
      hint: `for example ${flag} 127.0.0.1:9300 (port 0 picks a free one)`,
    });
  }
  return { host: m[1] ?? m[2], port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

// HOST:PORT listen addresses for mvm's HTTP servers (port 0 picks a free one), and listening on one.
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

/**
 * `server.listen()` on `listen`; its failure as an IO error saying that `who` cannot listen there
 * (an address in use said so), with `hint`. Resolves with the port it listens on (port 0: the one picked).
 */
export async function listenOn(
  server: {
    listen(o: { host: string; port: number }): Promise<unknown>;
    server: { address(): string | { port: number } | null };
  },
  listen: ListenAddress,
  who: string,
  hint: string,
): Promise<number> {
  try {
    await server.listen({ host: listen.host, port: listen.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new MvmError(
      'IO',
      `${who} cannot listen on ${listen.host}:${listen.port}: ${code === 'EADDRINUSE' ? 'the address is in use' : (err as Error).message}`,
      { cause: err, hint },
    );
  }
  const addr = server.server.address();
  return typeof addr === 'object' && addr ? addr.port : listen.port;
}

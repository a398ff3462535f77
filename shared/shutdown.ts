// Graceful-then-forceful shutdown for daemons: the first SIGTERM/SIGINT aborts `graceful`
// (stop taking work, drain), a second one aborts `force` (stop now).
import type { Logger } from 'pino';

export interface Shutdown {
  graceful: AbortSignal;
  force: AbortSignal;
  /** Removes the signal handlers. */
  dispose(): void;
}

export function installShutdown(log?: Logger, signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): Shutdown {
  const graceful = new AbortController();
  const force = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (!graceful.signal.aborted) {
      log?.info({ signal: sig }, 'shutting down gracefully; send the signal again to force');
      graceful.abort(new Error(`received ${sig}`));
    } else if (!force.signal.aborted) {
      log?.warn({ signal: sig }, 'forcing shutdown');
      force.abort(new Error(`received ${sig} twice`));
    }
  };
  for (const s of signals) process.on(s, onSignal);
  return {
    graceful: graceful.signal,
    force: force.signal,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

// How a local agent tells its factory it is online: the factory starts it with a pipe on an extra
// file descriptor named by MVM_AGENT_ONLINE_FD, and the agent writes one line there once it has
// bootstrapped (the server then counts its worker online) and closes it. The factory carries the
// instance forward at once instead of at its next re-check. Only a hint: the server's worker list
// stays the truth, and an agent without the pipe (over SSH, adopted after a factory restart) is
// found by the factory's re-check as before.
import { closeSync, writeSync } from 'node:fs';

export const AGENT_ONLINE_FD_ENV = 'MVM_AGENT_ONLINE_FD';
export const AGENT_ONLINE_LINE = 'online\n';

/** Writes the online line to the factory's pipe, if there is one, and closes it (once). */
export function announceOnline(env: NodeJS.ProcessEnv = process.env): void {
  const fd = Number(env[AGENT_ONLINE_FD_ENV]);
  delete env[AGENT_ONLINE_FD_ENV];
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, AGENT_ONLINE_LINE);
  } catch {
    // The factory is gone (EPIPE) or the descriptor is not ours: its re-check finds us anyway.
  }
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

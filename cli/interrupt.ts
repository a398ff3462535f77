// SIGINT (Ctrl-C) and SIGTERM (what Jenkins and GitHub Actions send when a build is aborted) while
// a command waits on a job. In CI the job is cancelled on the server, so its testbed is freed at
// once instead of running a test nobody will read; elsewhere it goes on unless asked.
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** Whether this runs in CI: CI=true, as GitHub Actions, GitLab and most others set it. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(true|1)$/i.test(env.CI ?? '');
}

/** Whether an interrupted wait cancels the job: the flag when given, else whether in CI. */
export function cancelsOnInterrupt(flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return flag ?? inCi(env);
}

/**
 * Calls `handler` on the first SIGINT or SIGTERM; a second one ends the process at once (130), so
 * a person can always get out. Returns the function that removes the handlers.
 */
export function onInterrupt(handler: (signal: InterruptSignal) => void): () => void {
  let seen = false;
  const on = (signal: InterruptSignal) => {
    if (seen) process.exit(130);
    seen = true;
    handler(signal);
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGTERM', onTerm);
  };
}

// `mvm testbeds reserve --wait` and `mvm testbeds check --wait`: no silent waits, no endless ones.
// Reserving a testbed that is taken queues for it — saying who holds it, once and again when that
// changes — until it is free or the deadline passes; a check waits for its verdict, saying how
// long it has taken every 10 s, and exits 1 when the testbed is found bad.
import { formatDuration, parseDuration } from '../shared/duration.js';
import { MvmError } from '../shared/errors.js';
import { sleep } from '../shared/sleep.js';
import type { NamedLab } from './labs.js';

/** How often the factory API is asked again. */
const POLL_MS = 2_000;
/** How often a waiting command says it still waits. */
const SAY_EVERY_MS = 10_000;

/** --timeout as milliseconds; a bare number is refused (seconds? minutes?). */
export function waitDeadline(timeout: string | undefined, fallbackMs: number): number {
  if (timeout === undefined) return fallbackMs;
  const ms = /^\s*\d+(\.\d+)?\s*$/.test(timeout) ? undefined : parseDuration(timeout);
  if (ms === undefined || ms <= 0) {
    throw new MvmError(
      'USAGE',
      `--timeout ${JSON.stringify(timeout)}: ${/^\s*\d/.test(timeout) ? `${timeout.trim()} what?` : 'not a duration'}`,
      {
        hint: 'give a unit: 90s, 10m, 1h',
      },
    );
  }
  return ms;
}

/** Tries `attempt` until it stops answering 409 (the testbed is taken) or the deadline passes. */
export async function untilFree<T>(
  ref: string,
  attempt: () => Promise<T>,
  o: { timeoutMs: number; note: (line: string) => void; signal?: AbortSignal },
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  let said = '';
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof MvmError) || err.code !== 'CONFLICT') throw err;
      if (Date.now() >= deadline) {
        throw new MvmError(
          'CONFLICT',
          `${ref} did not become free within ${formatDuration(o.timeoutMs)}: ${err.message}`,
          {
            cause: err,
            hint: 'try again later, or wait longer with --timeout',
          },
        );
      }
      if (err.message !== said) {
        o.note(`mvm: ${ref} is taken (${err.message}); waiting for it until ${new Date(deadline).toISOString()}`);
        said = err.message;
      }
    }
    await sleep(POLL_MS, o.signal);
  }
}

interface Health {
  health: string;
  health_reason: string | null;
}

/** Waits for the verdict of the check just asked for; bad is an error (exit 1), good is returned. */
export async function untilChecked<T extends Health>(
  lab: NamedLab,
  path: string,
  ref: string,
  o: { timeoutMs: number; note: (line: string) => void; signal?: AbortSignal },
): Promise<T> {
  const started = Date.now();
  let lastSaid = started;
  for (;;) {
    const t = await lab.client.call<T>('GET', path, `read testbed ${ref}`);
    if (t.health === 'good') return t;
    if (t.health === 'bad') {
      throw new MvmError('DEVICE', `the health check of ${ref} failed: ${t.health_reason ?? 'no reason given'}`, {
        hint: `see \`mvm testbeds show ${ref}\`; fix the bench and run \`mvm testbeds check ${ref} --wait\` again`,
      });
    }
    if (t.health === 'maintenance' || t.health === 'retired')
      throw new MvmError('CONFLICT', `${ref} went into ${t.health} while it was being checked`);
    if (Date.now() - started >= o.timeoutMs)
      throw new MvmError(
        'TIMEOUT',
        `the health check of ${ref} gave no verdict within ${formatDuration(o.timeoutMs)}`,
        {
          hint: `it is ${t.health}; see \`mvm testbeds show ${ref}\``,
        },
      );
    if (Date.now() - lastSaid >= SAY_EVERY_MS) {
      o.note(`mvm: checking ${ref} (${t.health}): ${Math.round((Date.now() - started) / 1000)} s`);
      lastSaid = Date.now();
    }
    await sleep(POLL_MS, o.signal);
  }
}

// What `mvm whoami` and `mvm status` ask each configured service: a connection that cannot even be
// resolved (no URL or token given anywhere) is "not configured", not a failure; a call that fails
// is reported with its message, and the other services are still asked.
import { MvmError } from '../shared/errors.js';
import type { LabFlags } from './options.js';
import type { ConnectionFlags } from './profile.js';

/** What `mvm whoami` and `mvm status` take: the job server's, the labs' and --json. */
export interface ClientArgs extends ConnectionFlags, LabFlags {
  json: boolean;
}

export type Probe<T> =
  { state: 'unset'; why: string } | { state: 'ok'; value: T } | { state: 'failed'; error: string; hint?: string };

/** Resolves a connection (unset when nothing names one), then calls it. */
export async function probe<C, T>(resolve: () => C, call: (conn: C) => Promise<T>): Promise<Probe<T>> {
  let conn: C;
  try {
    conn = resolve();
  } catch (err) {
    if (err instanceof MvmError && err.code === 'USAGE' && /^no /.test(err.message))
      return { state: 'unset', why: err.message };
    throw err;
  }
  try {
    return { state: 'ok', value: await call(conn) };
  } catch (err) {
    return {
      state: 'failed',
      error: err instanceof Error ? err.message : String(err),
      hint: err instanceof MvmError ? err.hint : undefined,
    };
  }
}

/** A probe as JSON: {configured, ok, …value | error}. */
export function probeJson<T>(p: Probe<T>, value: (v: T) => Record<string, unknown>): Record<string, unknown> {
  if (p.state === 'unset') return { configured: false };
  if (p.state === 'failed') return { configured: true, ok: false, error: p.error };
  return { configured: true, ok: true, ...value(p.value) };
}

/** "5s ago", "3m ago", "2h ago" from a time. */
export function ago(at: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60) ? `${Math.floor((s % 3600) / 60)}m` : ''} ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

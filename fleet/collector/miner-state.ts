// One miner's reading outcome → its next live state, the event to record, and when to read it
// next (on schedule while online; backing off, with jitter, once offline). Pure: the collector
// applies what this returns.
import type { Telemetry } from '../../runner/drivers/types.js';
import type { MinerLiveState, NewFleetEvent } from '../types.js';

export interface Outcome {
  state: MinerLiveState;
  event?: NewFleetEvent;
  /** ms from now until the next reading. */
  nextInMs: number;
}

export interface Policy {
  pollIntervalMs: number;
  offlineAfter: number;
  random?: () => number;
}

export function afterReading(prev: MinerLiveState, t: Telemetry, now: number, policy: Policy): Outcome {
  const state: MinerLiveState = { id: prev.id, status: 'online', missed: 0, lastSeenAt: now, last: t, lastError: null };
  const event: NewFleetEvent | undefined =
    prev.status === 'offline'
      ? {
          minerId: prev.id,
          kind: 'online',
          level: 'info',
          message: `${prev.id} is back online (after ${prev.missed} missed reading${prev.missed === 1 ? '' : 's'})`,
          actor: 'collector',
          data: { missed: prev.missed },
        }
      : undefined;
  return { state, ...(event ? { event } : {}), nextInMs: policy.pollIntervalMs };
}

/** The longest wait between readings of an offline miner: 6 intervals, at most a minute (never under one interval). */
export function maxBackoffMs(pollIntervalMs: number): number {
  return Math.max(pollIntervalMs, Math.min(60_000, 6 * pollIntervalMs));
}

export function afterMiss(prev: MinerLiveState, error: string, policy: Policy): Outcome {
  const missed = prev.missed + 1;
  const goesOffline = missed >= policy.offlineAfter && prev.status !== 'offline';
  const status = missed >= policy.offlineAfter ? 'offline' : prev.status;
  const state: MinerLiveState = { ...prev, status, missed, lastError: error };
  let nextInMs = policy.pollIntervalMs;
  if (status === 'offline') {
    const beyond = missed - policy.offlineAfter;
    const ceiling = Math.min(maxBackoffMs(policy.pollIntervalMs), policy.pollIntervalMs * 2 ** Math.min(beyond, 20));
    nextInMs = Math.round(ceiling * (0.5 + 0.5 * (policy.random ?? Math.random)()));
  }
  const event: NewFleetEvent | undefined = goesOffline
    ? {
        minerId: prev.id,
        kind: 'offline',
        level: 'warn',
        message: `${prev.id} is offline: ${missed} reading${missed === 1 ? '' : 's'} missed (${error})`,
        actor: 'collector',
        data: { missed, error, lastSeenAt: prev.lastSeenAt === null ? null : new Date(prev.lastSeenAt).toISOString() },
      }
    : undefined;
  return { state, ...(event ? { event } : {}), nextInMs };
}

export function initialState(id: string): MinerLiveState {
  return { id, status: 'unknown', missed: 0, lastSeenAt: null, last: null, lastError: null };
}

// A job's event log: appending a worker's batches (exactly once, also when a batch is resent),
// and reading events back for followers. Every line a task prints passes through here twice, so
// both directions work on prepared statements (event-statements.ts) and cheap time formatting.
import type { JobEvent as ApiJobEvent } from '../../shared/api/types.js';
import type { ServerContext } from '../context.js';
import { notFound } from '../http/errors.js';
import { eventStatements, INSERT_ROWS } from './event-statements.js';

export interface NewEvent {
  stream: string;
  payload: string;
  task?: number | null;
  timeRemote?: number | null;
}

/** Appends events to a job; call inside a transaction. Sequence numbers start at 1. */
export function addEvents(ctx: ServerContext, jobId: string, evs: NewEvent[]): void {
  if (evs.length === 0) return;
  const st = eventStatements(ctx.sqlite);
  const j = st.lastSeq.get(jobId);
  if (!j) throw notFound(`job ${jobId} not found`);
  const now = ctx.now();
  let seq = j.seq;
  const params: unknown[] = [];
  const row = (e: NewEvent) =>
    params.push(jobId, ++seq, e.task ?? null, e.stream, now, e.timeRemote ?? null, e.payload);
  let i = 0;
  for (; i + INSERT_ROWS <= evs.length; i += INSERT_ROWS) {
    params.length = 0;
    for (let k = i; k < i + INSERT_ROWS; k++) row(evs[k]);
    st.insertMany.run(params);
  }
  for (; i < evs.length; i++) {
    params.length = 0;
    row(evs[i]);
    st.insert.run(params);
  }
  st.setSeq.run(seq, jobId);
}

/** The seconds of `time` last formatted, and their text ("YYYY-MM-DDTHH:MM:SS."). */
let isoSecond = NaN;
let isoPrefix = '';
/** Year 10000: from there on toISOString writes an extended year, which the prefix cannot hold. */
const ISO_FAST_MAX_MS = 253_402_300_800_000;

/**
 * `new Date(ms).toISOString()`, the same text, cheaper: events come many per second, so the date
 * and time of day are formatted once per second and only the milliseconds each time.
 */
export function isoTime(ms: number): string {
  if (!(ms >= 0 && ms < ISO_FAST_MAX_MS)) return new Date(ms).toISOString();
  const whole = Math.trunc(ms);
  const second = whole - (whole % 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second).toISOString().slice(0, 20);
  }
  const milli = whole - second;
  return isoPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}

/** The second last parsed by remoteTime ("YYYY-MM-DDTHH:MM:SS") and its epoch ms. */
let remoteSecondText = '';
let remoteSecondMs = 0;
const MILLIS_AND_Z = /^\.(\d{3})(\d*)Z$/;

/**
 * A worker event's time (RFC 3339) as epoch milliseconds, keeping the sub-millisecond digits as a
 * fraction: the mvm agent stamps events with strictly increasing microseconds, and telling a
 * resent batch from a new one (`isResentBatch`) needs them. `Date.parse` drops them. A double
 * holds today's epoch ms with a resolution of about 0.25 µs, so distinct microseconds stay distinct.
 * An agent's times share their second with the one before mostly: that part is parsed once.
 */
export function remoteTime(text: string): number {
  const m = text.length > 24 && text.charCodeAt(19) === 0x2e ? MILLIS_AND_Z.exec(text.slice(19)) : null;
  if (m) {
    const secondText = text.slice(0, 19);
    if (secondText !== remoteSecondText) {
      const ms = Date.parse(`${secondText}Z`);
      if (!Number.isFinite(ms)) return slowRemoteTime(text);
      remoteSecondText = secondText;
      remoteSecondMs = ms;
    }
    // The same sum as slowRemoteTime's, so a value is identical whichever way it was parsed.
    const ms = remoteSecondMs + Number(m[1]);
    return m[2] ? ms + Number(`0.${m[2]}`) : ms;
  }
  return slowRemoteTime(text);
}

function slowRemoteTime(text: string): number {
  const ms = Date.parse(text);
  const frac = /T[^.]*\.\d{3}(\d+)/.exec(text)?.[1];
  return frac && Number.isFinite(ms) ? ms + Number(`0.${frac}`) : ms;
}

/**
 * Whether `evs` is a batch the job already ends with: the worker resending an append whose first
 * attempt was stored but whose answer it never got (the server died or the connection dropped in
 * between). An agent resends exactly the same batch, and no two batches it sends are equal (its
 * times strictly increase), so equality with the job's last worker events means a retry. Call
 * inside the append's transaction.
 */
export function isResentBatch(ctx: ServerContext, jobId: string, evs: NewEvent[]): boolean {
  if (evs.length === 0) return false;
  // Worker events always carry a time; the server's own control events never do. A new batch
  // differs from the stored tail at its last event already: one row decides the common case.
  const st = eventStatements(ctx.sqlite);
  const last = evs[evs.length - 1];
  const [newest] = st.workerTail.all(jobId, 1);
  if (
    !newest ||
    newest.stream !== last.stream ||
    newest.payload !== last.payload ||
    newest.task !== (last.task ?? null) ||
    newest.time_remote !== last.timeRemote
  )
    return false;
  const tail = st.workerTail.all(jobId, evs.length).reverse();
  if (tail.length !== evs.length) return false;
  return tail.every((s, i) => {
    const e = evs[i];
    return (
      s.stream === e.stream && s.payload === e.payload && s.task === (e.task ?? null) && s.time_remote === e.timeRemote
    );
  });
}

/** The job's events from `minseq` on, oldest first, as the API returns them. */
export function listEvents(ctx: ServerContext, jobId: string, minseq: number, limit = 1000): ApiJobEvent[] {
  return eventStatements(ctx.sqlite)
    .since.all(jobId, minseq, limit)
    .map((e) => ({
      seq: e.seq,
      task: e.task,
      stream: e.stream,
      time: isoTime(e.time),
      time_remote: e.time_remote === null ? null : isoTime(e.time_remote),
      payload: e.payload,
    }));
}

/**
 * The same page as `listEvents`, as the JSON text of the array: SQLite writes each event's JSON,
 * so no JS object per event is made and walked (a follower reads every line a task prints; this
 * costs about half as much). The text is byte for byte what `JSON.stringify(listEvents(…))` gives.
 */
export function listEventsJson(
  ctx: ServerContext,
  jobId: string,
  minseq: number,
  limit = 1000,
): { count: number; json: string } {
  const rows = eventStatements(ctx.sqlite).sinceJson.all(jobId, minseq, limit);
  return { count: rows.length, json: `[${rows.join(',')}]` };
}

/** How many tasks a job has (worker events name them by index). */
export function taskCount(ctx: ServerContext, jobId: string): number {
  return eventStatements(ctx.sqlite).taskCount.get(jobId)!.n;
}

// A FIFO of events with bounded memory. Events are serialised once, when queued, into JSON lines
// held in two fixed byte buffers — never as one JS object per event, which at hundreds of
// thousands of lines a second would make the garbage collector grow the heap far beyond what is
// queued. Logically one queue; physically three parts, always in this order: `head` (the next
// events to send), the spool file (append-only JSON lines on disk, used once memory is full), and
// `tail` (the newest events, appended to the file in one write when it fills). Events are only
// ever added at the back and removed at the front, so the order is kept whichever part holds them.
import { closeSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { WorkerAppendJobOrTask } from '../shared/api/types.js';
import { MvmError } from '../shared/errors.js';

export type AgentEvent = WorkerAppendJobOrTask;

/** Enough for thousands of events — far more than one batch — while keeping the agent small. */
export const DEFAULT_SPOOL_MEMORY = 1024 * 1024;
/** Longest serialised event; longer payloads are cut (task lines are already at most 16 KiB). */
export const MAX_EVENT_BYTES = 128 * 1024;

/**
 * Largest append body the agent sends (one event alone may be larger, up to MAX_EVENT_BYTES): a
 * batch of a thousand long lines stays far below the body limits of mvm server (16 MiB) and of
 * the servers built on dropshot (1 MiB by default).
 */
export const MAX_BATCH_BYTES = 1024 * 1024;

export interface SpoolOptions {
  /** Memory for queued events, bytes: half for the head, half for the tail. */
  memoryBytes?: number;
}

/** A batch ready to send: `body` is the JSON array of the first `count` events. */
export interface SpoolBatch {
  count: number;
  body: Buffer;
}

const NL = 0x0a;

/** One event as a JSON line, within MAX_EVENT_BYTES. */
export function serialise(ev: AgentEvent): Buffer {
  let line = Buffer.from(JSON.stringify(ev) + '\n', 'utf8');
  if (line.length > MAX_EVENT_BYTES) {
    const keep = Math.floor(MAX_EVENT_BYTES / 8); // chars; JSON escaping may expand up to 6x
    line = Buffer.from(JSON.stringify({ ...ev, payload: ev.payload.slice(0, keep) + ' [cut]' }) + '\n', 'utf8');
  }
  return line;
}

class LineBuffer {
  buf: Buffer;
  start = 0;
  end = 0;
  count = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  get bytes(): number {
    return this.end - this.start;
  }
  /** Appends `line` if it fits (compacting first if that makes room). */
  tryAppend(line: Buffer): boolean {
    if (this.end + line.length > this.buf.length && this.start > 0) this.compact();
    if (this.end + line.length > this.buf.length) return false;
    line.copy(this.buf, this.end);
    this.end += line.length;
    this.count++;
    return true;
  }
  compact(): void {
    this.buf.copy(this.buf, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
  }
  clear(): void {
    this.start = this.end = this.count = 0;
  }
  /** Makes room for `extra` more bytes by growing the buffer (only when the disk refused a spill). */
  grow(extra: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.bytes + extra));
    this.buf.copy(next, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    this.buf = next;
  }
}

export class EventSpool {
  private head: LineBuffer;
  private tail: LineBuffer;
  private fd: number | undefined;
  private readPos = 0;
  private writePos = 0;
  private onDisk = 0;
  private peeked: { count: number; bytes: number } | undefined;
  /** Events written to the spool file since creation (for tests and metrics). */
  spilled = 0;
  /**
   * Why the last spill to disk failed (a full disk), while events are kept in memory instead;
   * cleared by the next spill that works.
   */
  spillError: Error | undefined;
  private readonly half: number;

  constructor(
    private readonly file: string,
    opts: SpoolOptions = {},
  ) {
    this.half = Math.max(2 * MAX_EVENT_BYTES, Math.floor((opts.memoryBytes ?? DEFAULT_SPOOL_MEMORY) / 2));
    this.head = new LineBuffer(this.half);
    this.tail = new LineBuffer(this.half);
  }

  get length(): number {
    return this.head.count + this.onDisk + this.tail.count;
  }

  /** Events currently on disk. */
  get onDiskCount(): number {
    return this.onDisk;
  }

  push(ev: AgentEvent): void {
    const line = serialise(ev);
    if (this.onDisk === 0 && this.tail.count === 0 && this.head.tryAppend(line)) return;
    if (this.tail.tryAppend(line)) return;
    try {
      this.spillTail();
      this.spillError = undefined;
      if (this.tail.buf.length > this.half) this.tail = new LineBuffer(this.half); // back within its bound
    } catch (err) {
      // The disk is full (or failing): keep the events in memory — over the bound — rather than
      // lose them or crash the agent. The spill is tried again when the tail fills up again.
      this.spillError = err as Error;
      this.tail.grow(line.length);
    }
    this.tail.tryAppend(line);
  }

  /**
   * Up to `max` events from the front, without removing them, in a body of at most `maxBytes`
   * (always at least one event).
   */
  peekBatch(max: number, maxBytes = MAX_BATCH_BYTES): SpoolBatch | undefined {
    if (this.head.count === 0) this.refill();
    // Events in the tail directly follow the head when nothing is on disk: top the batch up.
    if (this.head.count < max && this.onDisk === 0 && this.tail.count > 0) this.moveTailToHead();
    if (this.head.count === 0) return undefined;
    const { buf, start, end } = this.head;
    let pos = start;
    let count = 0;
    while (count < max && pos < end) {
      const next = buf.indexOf(NL, pos) + 1;
      if (count > 0 && next - start + 1 > maxBytes) break;
      pos = next;
      count++;
    }
    const body = Buffer.allocUnsafe(pos - start + 1);
    body[0] = 0x5b; // [
    buf.copy(body, 1, start, pos);
    for (let i = 1; i < body.length; i++) if (body[i] === NL) body[i] = 0x2c; // ,
    body[body.length - 1] = 0x5d; // ]
    this.peeked = { count, bytes: pos - start };
    return { count, body };
  }

  /** Up to `max` events from the front, parsed (tests, diagnostics). */
  peek(max: number): AgentEvent[] {
    const b = this.peekBatch(max);
    return b ? (JSON.parse(b.body.toString('utf8')) as AgentEvent[]) : [];
  }

  /** Removes the `n` events last peeked (they were delivered). */
  shift(n: number): void {
    if (!this.peeked || n !== this.peeked.count) {
      throw new MvmError('INTERNAL', `spool: shift(${n}) does not match the ${this.peeked?.count ?? 0} events peeked`);
    }
    this.head.start += this.peeked.bytes;
    this.head.count -= n;
    this.peeked = undefined;
    if (this.head.count === 0) this.head.clear();
  }

  /** Drops everything queued (the events can no longer be delivered). Returns how many. */
  clear(): number {
    const n = this.length;
    this.head.clear();
    this.tail.clear();
    this.peeked = undefined;
    this.resetFile();
    return n;
  }

  /** Closes and removes the spool file. */
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    rmSync(this.file, { force: true });
  }

  private moveTailToHead(): void {
    // Whole lines only: copy as many as fit.
    const t = this.tail;
    let pos = t.start;
    let count = 0;
    if (this.head.start > 0) this.head.compact();
    const room = this.head.buf.length - this.head.end;
    for (;;) {
      const nl = t.buf.indexOf(NL, pos);
      if (nl === -1 || nl >= t.end || nl + 1 - t.start > room) break;
      pos = nl + 1;
      count++;
    }
    if (count === 0) return;
    t.buf.copy(this.head.buf, this.head.end, t.start, pos);
    this.head.end += pos - t.start;
    this.head.count += count;
    t.start = pos;
    t.count -= count;
    if (t.count === 0) t.clear();
  }

  private spillTail(): void {
    const t = this.tail;
    if (t.count === 0) return;
    this.fd ??= openSync(this.file, 'w+', 0o600);
    let off = t.start;
    while (off < t.end) off += writeSync(this.fd, t.buf, off, t.end - off, this.writePos + off - t.start);
    this.writePos += t.end - t.start;
    this.onDisk += t.count;
    this.spilled += t.count;
    t.clear();
  }

  /** Moves the next events into the (empty) head: from disk first, else from the tail. */
  private refill(): void {
    if (this.onDisk > 0) this.readFromDisk();
    else if (this.tail.count > 0) [this.head, this.tail] = [this.tail, this.head];
  }

  private readFromDisk(): void {
    const h = this.head;
    h.clear();
    const want = Math.min(h.buf.length, this.writePos - this.readPos);
    let n = 0;
    while (n < want) {
      const got = readSync(this.fd!, h.buf, n, want - n, this.readPos + n);
      if (got === 0) break;
      n += got;
    }
    // Keep whole lines only; the rest is read again next time.
    const last = h.buf.lastIndexOf(NL, n - 1);
    if (n === 0 || last === -1) {
      throw new MvmError('IO', `event spool ${this.file} is truncated: ${this.onDisk} events missing`, {
        hint: 'something else wrote to or truncated the agent workdir',
      });
    }
    h.end = last + 1;
    for (let pos = 0; pos < h.end; pos = h.buf.indexOf(NL, pos) + 1) h.count++;
    this.readPos += h.end;
    this.onDisk -= h.count;
    if (this.onDisk === 0) this.resetFile();
  }

  private resetFile(): void {
    this.onDisk = 0;
    this.readPos = 0;
    this.writePos = 0;
    if (this.fd !== undefined) ftruncateSync(this.fd, 0);
  }
}

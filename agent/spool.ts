// A FIFO of events with bounded memory. Logically one queue; physically three parts, always in
// this order: `head` (memory, the next events to send), the spool file (append-only JSON lines on
// disk, used once memory is full), and `tail` (memory, the newest events, written to the spool in
// one write when it fills). Events are only ever added at the back and removed at the front, so
// the order is kept whichever part holds them.
import { closeSync, ftruncateSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { WorkerAppendJobOrTask } from '../shared/api/types.js';
import { MvmError } from '../shared/errors.js';

export type AgentEvent = WorkerAppendJobOrTask;

export interface SpoolOptions {
  /** Memory for queued events, bytes (approximate); half for the head, half for the tail. */
  memoryBytes?: number;
}

const READ_BLOCK = 1024 * 1024;

function sizeOf(ev: AgentEvent): number {
  // UTF-16 length is close enough for a budget; the constant covers the object and its strings.
  return ev.payload.length + ev.stream.length + 96;
}

export class EventSpool {
  private head: AgentEvent[] = [];
  private headStart = 0;
  private headBytes = 0;
  private tail: AgentEvent[] = [];
  private tailBytes = 0;
  private fd: number | undefined;
  private readPos = 0;
  private writePos = 0;
  private onDisk = 0;
  private readonly halfBudget: number;
  /** Events written to the spool file since creation (for tests and metrics). */
  spilled = 0;

  constructor(
    private readonly file: string,
    opts: SpoolOptions = {},
  ) {
    this.halfBudget = Math.max(4096, Math.floor((opts.memoryBytes ?? 8 * 1024 * 1024) / 2));
  }

  get length(): number {
    return this.head.length - this.headStart + this.onDisk + this.tail.length;
  }

  /** Events currently on disk. */
  get onDiskCount(): number {
    return this.onDisk;
  }

  push(ev: AgentEvent): void {
    const size = sizeOf(ev);
    if (this.onDisk === 0 && this.tail.length === 0 && this.headBytes + size <= this.halfBudget) {
      this.head.push(ev);
      this.headBytes += size;
      return;
    }
    this.tail.push(ev);
    this.tailBytes += size;
    if (this.tailBytes > this.halfBudget) this.spillTail();
  }

  /** Up to `max` events from the front, without removing them. */
  peek(max: number): AgentEvent[] {
    if (this.head.length - this.headStart === 0) this.refill();
    // Events in the tail directly follow the head when nothing is on disk: top the batch up.
    while (this.head.length - this.headStart < max && this.onDisk === 0 && this.tail.length > 0) {
      const ev = this.tail.shift()!;
      const size = sizeOf(ev);
      this.tailBytes -= size;
      this.head.push(ev);
      this.headBytes += size;
    }
    return this.head.slice(this.headStart, this.headStart + max);
  }

  /** Removes `n` events from the front (they were delivered). */
  shift(n: number): void {
    const available = this.head.length - this.headStart;
    if (n > available) throw new MvmError('INTERNAL', `spool: shift(${n}) past the ${available} events peeked`);
    for (let i = 0; i < n; i++) this.headBytes -= sizeOf(this.head[this.headStart + i]!);
    this.headStart += n;
    if (this.headStart === this.head.length) {
      this.head = [];
      this.headStart = 0;
      this.headBytes = 0;
    } else if (this.headStart > 4096) {
      this.head = this.head.slice(this.headStart);
      this.headStart = 0;
    }
  }

  /** Drops everything queued (the events can no longer be delivered). Returns how many. */
  clear(): number {
    const n = this.length;
    this.head = [];
    this.headStart = 0;
    this.headBytes = 0;
    this.tail = [];
    this.tailBytes = 0;
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

  private spillTail(): void {
    if (this.tail.length === 0) return;
    this.fd ??= openSync(this.file, 'w+', 0o600);
    const data = Buffer.from(this.tail.map((e) => JSON.stringify(e)).join('\n') + '\n', 'utf8');
    let off = 0;
    while (off < data.length) off += writeSync(this.fd, data, off, data.length - off, this.writePos + off);
    this.writePos += data.length;
    this.onDisk += this.tail.length;
    this.spilled += this.tail.length;
    this.tail = [];
    this.tailBytes = 0;
  }

  /** Moves the next events into the (empty) head: from disk first, else from the tail. */
  private refill(): void {
    if (this.onDisk > 0) {
      this.readFromDisk();
      return;
    }
    if (this.tail.length > 0) {
      this.head = this.tail;
      this.headBytes = this.tailBytes;
      this.headStart = 0;
      this.tail = [];
      this.tailBytes = 0;
    }
  }

  private readFromDisk(): void {
    const fd = this.fd!;
    const buf = Buffer.allocUnsafe(READ_BLOCK);
    this.head = [];
    this.headStart = 0;
    this.headBytes = 0;
    let carry = Buffer.alloc(0);
    while (this.onDisk > 0 && this.headBytes < this.halfBudget) {
      const len = Math.min(READ_BLOCK, this.writePos - this.readPos - carry.length);
      const n = len > 0 ? readSync(fd, buf, 0, len, this.readPos + carry.length) : 0;
      const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n);
      let start = 0;
      let consumed = 0;
      for (;;) {
        const nl = data.indexOf(0x0a, start);
        if (nl === -1 || this.headBytes >= this.halfBudget) break;
        const ev = JSON.parse(data.toString('utf8', start, nl)) as AgentEvent;
        this.head.push(ev);
        this.headBytes += sizeOf(ev);
        this.onDisk--;
        start = nl + 1;
        consumed = start;
      }
      this.readPos += consumed;
      carry = Buffer.from(data.subarray(consumed));
      if (consumed === 0 && n === 0) {
        throw new MvmError('IO', `event spool ${this.file} is truncated: ${this.onDisk} events missing`, {
          hint: 'something else wrote to or truncated the agent workdir',
        });
      }
    }
    if (this.onDisk === 0) this.resetFile();
  }

  private resetFile(): void {
    this.onDisk = 0;
    this.readPos = 0;
    this.writePos = 0;
    if (this.fd !== undefined) ftruncateSync(this.fd, 0);
  }
}

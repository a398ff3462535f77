// Splits a byte stream into text lines for the event log. Works on bytes, so a multi-byte
// character split across reads is reassembled; invalid UTF-8 becomes U+FFFD; a line longer than
// `maxBytes` is cut into pieces at character boundaries so that no event (and no buffer) grows
// without bound.

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxBytes = DEFAULT_MAX_LINE_BYTES,
  ) {
    if (maxBytes < 4) throw new RangeError('maxBytes must allow at least one UTF-8 character');
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      if (this.pendingBytes === 0 && nl - start <= this.maxBytes) {
        // The common case: a whole line inside this chunk, decoded straight from it.
        this.emitBytes(chunk.subarray(start, nl));
      } else {
        this.add(chunk.subarray(start, nl));
        this.flushLine();
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.add(chunk.subarray(start));
  }

  /** Emits what is left (a last line without a newline). */
  end(): void {
    if (this.pendingBytes > 0) this.flushLine();
  }

  private add(part: Buffer): void {
    if (this.pendingBytes + part.length <= this.maxBytes) {
      // Copy: the caller's chunk may be a pooled buffer that is reused.
      if (part.length > 0) this.pending.push(Buffer.from(part));
      this.pendingBytes += part.length;
      return;
    }
    let buf = Buffer.concat([...this.pending, part]);
    while (buf.length > this.maxBytes) {
      const cut = utf8Boundary(buf, this.maxBytes);
      this.emitBytes(buf.subarray(0, cut), false);
      buf = buf.subarray(cut);
    }
    this.pending = buf.length > 0 ? [Buffer.from(buf)] : [];
    this.pendingBytes = buf.length;
  }

  private flushLine(): void {
    const line = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.emitBytes(line);
  }

  private emitBytes(bytes: Buffer, whole = true): void {
    let end = bytes.length;
    if (whole && end > 0 && bytes[end - 1] === 0x0d) end--; // CRLF line endings
    this.emit(bytes.toString('utf8', 0, end));
  }
}

/** The largest cut ≤ `limit` that does not split a UTF-8 character (falls back to `limit`). */
export function utf8Boundary(buf: Buffer, limit: number): number {
  if (buf.length <= limit) return buf.length;
  // A continuation byte is 10xxxxxx; back up at most 3 of them to a character's first byte.
  for (let i = limit; i > limit - 4 && i > 0; i--) {
    if ((buf[i]! & 0xc0) !== 0x80) return i;
  }
  return limit;
}

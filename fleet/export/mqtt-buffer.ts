// Messages kept while the broker is away, bounded: a retained message replaces the one waiting
// for the same topic (only the latest state matters); when full, the oldest message goes.
export interface OutMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

export class OutBuffer {
  private queue: OutMessage[] = [];
  /** Messages dropped because the buffer was full, since start. */
  dropped = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.queue.length;
  }

  /** Returns false when a message had to be dropped to make room. */
  push(m: OutMessage): boolean {
    if (m.retain) {
      const i = this.queue.findIndex((q) => q.retain && q.topic === m.topic);
      if (i >= 0) this.queue.splice(i, 1);
    }
    if (this.capacity <= 0) {
      this.dropped++;
      return false;
    }
    let room = true;
    while (this.queue.length >= this.capacity) {
      this.queue.shift();
      this.dropped++;
      room = false;
    }
    this.queue.push(m);
    return room;
  }

  /** Takes every waiting message, oldest first. */
  drain(): OutMessage[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }
}

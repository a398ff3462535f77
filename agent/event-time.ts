// Event timestamps: RFC 3339 with microseconds, strictly increasing within one agent process.
// Strictly increasing times make (job, time) identify each event the agent sends, so a server can
// recognise an append that is resent after its first attempt landed (see doc/agent.md).

export type MicroClock = () => number;

/** Wall-clock microseconds since the epoch (ms from Date, sub-ms from the monotonic clock). */
export const wallMicros: MicroClock = () => Date.now() * 1000 + Math.floor((performance.now() % 1) * 1000);

export class EventClock {
  private last = 0;
  constructor(private readonly now: MicroClock = wallMicros) {}

  /** The next timestamp: now, or one microsecond after the previous one if the clock did not move. */
  next(): string {
    const t = Math.max(this.now(), this.last + 1);
    this.last = t;
    return formatMicros(t);
  }
}

/** The second last formatted by formatMicros (epoch µs) and its text ("YYYY-MM-DDTHH:MM:SS."). */
let cachedSecond = NaN;
let cachedPrefix = '';

/** `us` as RFC 3339 with microseconds; the date and time of day are formatted once per second. */
export function formatMicros(us: number): string {
  if (!(us >= 0 && us <= Number.MAX_SAFE_INTEGER)) return slowFormatMicros(us); // exact integers (to year 2255)
  const micros = us % 1_000_000;
  const second = us - micros;
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second / 1000).toISOString().slice(0, 20);
  }
  return `${cachedPrefix}${String(micros).padStart(6, '0')}Z`;
}

function slowFormatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2026-11-23T08:32:10.123Z
  const micro = String(us % 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${micro}Z`;
}

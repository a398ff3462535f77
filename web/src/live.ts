// Live updates: the fleet's server-sent events (GET /api/events/stream). EventSource cannot send an
// Authorization header, so the stream is read with fetch and parsed here (same wire format); it
// reconnects with backoff and jitter, and pages re-read what they show when something happens.
import { useEffect, useRef } from 'preact/hooks';
import { token } from './api.js';
import { signal } from './store.js';

export interface LiveMessage {
  /** the SSE `event:` name ("message" when absent) */
  type: string;
  data: unknown;
}

export const liveStatus = signal<'off' | 'connecting' | 'live' | 'down'>('off');
const listeners = new Set<(m: LiveMessage) => void>();
let stop: AbortController | null = null;

export function onLive(fn: (m: LiveMessage) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function dispatch(type: string, raw: string): void {
  let data: unknown = raw;
  try {
    data = JSON.parse(raw);
  } catch {
    // a plain-text event
  }
  for (const fn of [...listeners]) fn({ type, data });
}

/** Parses a text/event-stream body, calling dispatch per event. */
async function read(body: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
  let buf = '';
  let type = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length) dispatch(type, data.join('\n'));
        type = 'message';
        data = [];
      } else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('event:')) type = line.slice(6).trim();
      // id:, retry: and comments (keep-alives) need nothing here
    }
  }
}

/** Starts (or restarts) the stream for the current token. */
export function connectLive(): void {
  stop?.abort();
  const ctl = new AbortController();
  stop = ctl;
  void (async () => {
    let delay = 1000;
    while (!ctl.signal.aborted && token.value) {
      liveStatus.value = 'connecting';
      try {
        const res = await fetch('/api/events/stream', {
          headers: { authorization: `Bearer ${token.value}`, accept: 'text/event-stream' },
          signal: ctl.signal,
        });
        if (res.ok && res.body) {
          liveStatus.value = 'live';
          delay = 1000;
          await read(res.body, ctl.signal);
        }
      } catch {
        // network error or abort: retried below unless stopped
      }
      if (ctl.signal.aborted) break;
      liveStatus.value = 'down';
      await new Promise((r) => setTimeout(r, delay * (0.75 + Math.random() / 2)));
      delay = Math.min(delay * 2, 15_000);
    }
    if (stop === ctl) liveStatus.value = 'off';
  })();
}

export function disconnectLive(): void {
  stop?.abort();
  stop = null;
  liveStatus.value = 'off';
}

/**
 * Calls `refresh` when a live message passes `filter`, at most once per `everyMs` (the last call
 * always happens, so the page ends showing the newest state).
 */
export function useLive(refresh: () => void, filter: (m: LiveMessage) => boolean = () => true, everyMs = 1000): void {
  const fn = useRef(refresh);
  fn.current = refresh;
  const keep = useRef(filter);
  keep.current = filter;
  useEffect(() => {
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const fire = () => {
      timer = null;
      last = Date.now();
      fn.current();
    };
    const off = onLive((m) => {
      if (!keep.current(m) || timer) return;
      const wait = Math.max(0, last + everyMs - Date.now());
      timer = setTimeout(fire, wait);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [everyMs]);
}

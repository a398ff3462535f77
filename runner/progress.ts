// Progress of a long operation: JSON lines with --json (scripts read those: one object per line
// with an `event` key); otherwise lines a person reads: on a terminal a redrawn line (the upload's
// bar with rate and ETA, then the time waited while the device takes the image or reboots), and
// in a CI log (no terminal) the lines a job log shows (device-tests/progress-lines.ts).
import { elapsedTicker, every, flashLines, flashWait, uploadStatus } from './device-tests/progress-lines.js';
import type { ProgressEvent } from './drivers/types.js';

export interface ProgressSink {
  event(e: ProgressEvent): void;
  /** Ends the bar (if any) and any elapsed-time line, so later output starts on a fresh line. */
  end(): void;
}

export interface SinkOptions {
  /** How often plain lines say where an upload or a wait is (default 10 s; a terminal redraws each second). */
  everyMs?: number;
  now?: () => number;
}

export function jsonLinesSink(out: NodeJS.WritableStream, device: string): ProgressSink {
  let lastPct = -1;
  return {
    event(e) {
      if (e.phase === 'upload') {
        // One line per whole percent is plenty for a log.
        const pct = e.total > 0 ? Math.floor((e.sent / e.total) * 100) : 100;
        if (pct === lastPct) return;
        lastPct = pct;
        out.write(
          JSON.stringify({ event: 'progress', device, phase: 'upload', sent: e.sent, total: e.total, percent: pct }) +
            '\n',
        );
        return;
      }
      out.write(JSON.stringify({ event: 'progress', device, ...e }) + '\n');
    },
    end() {},
  };
}

/** One line redrawn: the upload's bar with rate and ETA, then the time waited for the device. */
export function ttySink(
  out: NodeJS.WritableStream & { columns?: number },
  device: string,
  opts: SinkOptions = {},
): ProgressSink {
  const now = opts.now ?? Date.now;
  let lineShown = false;
  let uploadStarted: number | undefined;
  // Ten redraws a second are enough for an eye, and keep a terminal log small.
  const redrawDue = every(100, now);
  let waiting: { stop(): void; what: string } | undefined;
  const redraw = (text: string) => {
    // Clear to the end of the line: a shorter line must not leave the tail of a longer one.
    out.write(`\r${device}: ${text}\x1b[K`);
    lineShown = true;
  };
  const stopWaiting = () => {
    waiting?.stop();
    waiting = undefined;
  };
  const endLine = () => {
    if (lineShown) out.write('\n');
    lineShown = false;
  };
  return {
    event(e) {
      const what = flashWait(e);
      if (waiting && waiting.what !== what) stopWaiting();
      if (e.phase === 'upload') {
        uploadStarted ??= now();
        if (!redrawDue(e.sent >= e.total)) return;
        const width = Math.max(10, Math.min(40, (out.columns ?? 80) - 60));
        const frac = e.total > 0 ? e.sent / e.total : 1;
        const filled = Math.round(frac * width);
        redraw(
          `upload [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${uploadStatus(e.sent, e.total, now() - uploadStarted)}`,
        );
      } else {
        endLine();
        out.write(`${device}: ${e.phase}: ${e.message}\n`);
      }
      if (what && !waiting) {
        // The upload's last bar stays on screen; the wait gets a line of its own.
        endLine();
        waiting = { ...elapsedTicker(redraw, what, Math.min(opts.everyMs ?? 1000, 1000)), what };
      }
    },
    end() {
      stopWaiting();
      endLine();
    },
  };
}

/** Plain lines for a log, as a job log has them: "gamma: upload 48% (…, 44 KiB/s, ETA 12 s)". */
export function linesSink(out: NodeJS.WritableStream, device: string, opts: SinkOptions = {}): ProgressSink {
  const lines = flashLines((line) => out.write(`${device}: ${line}\n`), opts);
  return { event: (e) => lines.event(e), end: () => lines.stop() };
}

/** JSON lines on `jsonOut` with --json; else a bar on a terminal `stream`, plain lines on any other. */
export function progressSink(
  device: string,
  json: boolean,
  stream: NodeJS.WriteStream = process.stderr,
  jsonOut: NodeJS.WritableStream = process.stdout,
  opts: SinkOptions = {},
): ProgressSink {
  if (json) return jsonLinesSink(jsonOut, device);
  return stream.isTTY ? ttySink(stream, device, opts) : linesSink(stream, device, opts);
}

// Progress of a long operation: JSON lines with --json (scripts read those: one object per line
// with an `event` key); otherwise lines a person reads: a redrawn bar on a terminal, and in a CI
// log (no terminal) one plain line per phase and per tenth of the upload.
import type { ProgressEvent } from './drivers/types.js';

export interface ProgressSink {
  event(e: ProgressEvent): void;
  /** Ends the bar (if any) so later output starts on a fresh line. */
  end(): void;
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

export function ttySink(out: NodeJS.WritableStream & { columns?: number }, device: string): ProgressSink {
  let barShown = false;
  const clear = () => {
    if (barShown) out.write('\n');
    barShown = false;
  };
  return {
    event(e) {
      if (e.phase === 'upload') {
        const width = Math.max(10, Math.min(40, (out.columns ?? 80) - 40));
        const frac = e.total > 0 ? e.sent / e.total : 1;
        const filled = Math.round(frac * width);
        const kib = (n: number) => `${Math.round(n / 1024)}`;
        out.write(
          `\r${device}: upload [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(frac * 100)}% ${kib(e.sent)}/${kib(e.total)} KiB`,
        );
        barShown = true;
        return;
      }
      clear();
      out.write(`${device}: ${e.phase}: ${e.message}\n`);
    },
    end: clear,
  };
}

/** Plain lines for a log: the upload every 10 %, then each phase. */
export function linesSink(out: NodeJS.WritableStream, device: string): ProgressSink {
  let lastTenth = -1;
  return {
    event(e) {
      if (e.phase === 'upload') {
        const tenth = e.total > 0 ? Math.floor((e.sent / e.total) * 10) : 10;
        if (tenth === lastTenth) return;
        lastTenth = tenth;
        out.write(
          `${device}: upload ${tenth * 10}% (${Math.round(e.sent / 1024)}/${Math.round(e.total / 1024)} KiB)\n`,
        );
        return;
      }
      out.write(`${device}: ${e.phase}: ${e.message}\n`);
    },
    end() {},
  };
}

/** JSON lines on `jsonOut` with --json; else a bar on a terminal `stream`, plain lines on any other. */
export function progressSink(
  device: string,
  json: boolean,
  stream: NodeJS.WriteStream = process.stderr,
  jsonOut: NodeJS.WritableStream = process.stdout,
): ProgressSink {
  if (json) return jsonLinesSink(jsonOut, device);
  return stream.isTTY ? ttySink(stream, device) : linesSink(stream, device);
}

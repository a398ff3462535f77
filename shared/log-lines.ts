// Plain log lines for a person reading a job log or a terminal without colour: pino's JSON record
// becomes "INFO  gamma validate: image fits (size=1.2 MB)" — level, the record's context (testbed,
// device, test, part…), message, and any other fields as key=value. The same rendering serves the
// runner's own output (a Writable pino writes to) and `mvm job log`, which meets JSON log lines
// that a job printed.
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields that say where a record comes from, shown before the message in this order. */
const CONTEXT = ['lab', 'testbed', 'test', 'device', 'spec', 'command', 'part', 'job', 'task'];
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'v']);

export interface LogRecord {
  level: string;
  /** 30 info, 40 warn, 50 error…: for colour. */
  severity: number;
  context: string;
  message: string;
}

/** A pino JSON line as a record, or undefined when the text is not one. */
export function parseLogLine(text: string): LogRecord | undefined {
  if (!text.startsWith('{"level":')) return undefined;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof o.level !== 'number' || !('msg' in o || 'err' in o)) return undefined;
  const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const context = CONTEXT.filter((k) => o[k] !== undefined && o[k] !== null)
    .map((k) => show(o[k]))
    .join(' ');
  const err = o.err as { message?: unknown } | undefined;
  const extra = Object.entries(o)
    .filter(([k]) => !HIDDEN.has(k) && !CONTEXT.includes(k) && k !== 'err')
    .map(([k, v]) => `${k}=${show(v)}`);
  let message = typeof o.msg === 'string' ? o.msg : '';
  if (err && typeof err.message === 'string' && !message.includes(err.message))
    message = message ? `${message}: ${err.message}` : err.message;
  if (extra.length) message += ` (${extra.join(', ')})`;
  return { level: LEVELS[o.level] ?? String(o.level), severity: o.level, context, message };
}

export function formatLogRecord(r: LogRecord): string {
  return `${r.level.padEnd(5)} ${r.context ? `${r.context}: ` : ''}${r.message}`;
}

/** A destination for pino that writes each record as one plain line to `out`. */
export function plainLogStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        const r = parseLogLine(line);
        out.write((r ? formatLogRecord(r) : line) + '\n');
      }
      cb();
    },
  });
}

// Where the job and admin commands write: results on stdout (what a script reads), progress and
// notes on stderr. A closed stdout (e.g. piped into `head`) is not an error.
import { colorEnabled } from '../shared/color.js';

export interface Io {
  /** One line of results. */
  out(line: string): void;
  /** One line of progress or notes for the person. */
  note(line: string): void;
  /** Whether stdout is a terminal (tables). */
  tty: boolean;
  /** Whether stdout may carry colour (a terminal, NO_COLOR and FORCE_COLOR: shared/color.ts). */
  color: boolean;
}

let stdoutClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') stdoutClosed = true;
  else throw err;
});

export const processIo: Io = {
  out(line) {
    if (!stdoutClosed) process.stdout.write(line + '\n');
  },
  note(line) {
    process.stderr.write(line + '\n');
  },
  tty: Boolean(process.stdout.isTTY),
  color: colorEnabled(process.stdout),
};

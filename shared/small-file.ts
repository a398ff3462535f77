// Reading a local input that must be small — a config, a test definition, a job file, a token:
// only regular files (a FIFO would block forever, /dev/zero would grow without end), and only up
// to a size limit (a 22 MB YAML file parses for minutes), with the path and the limit in the error.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { MvmError } from './errors.js';

export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Reads `file` as UTF-8, or throws an MvmError naming `what`, the file and the limit. */
export function readSmallFile(file: string, what: string, maxBytes = MAX_CONFIG_BYTES): string {
  // O_NONBLOCK: opening a FIFO with no writer must not wait; it is refused below.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      const kind = st.isFIFO()
        ? 'a FIFO'
        : st.isCharacterDevice()
          ? 'a character device'
          : st.isDirectory()
            ? 'a folder'
            : st.isSocket()
              ? 'a socket'
              : 'not a regular file';
      throw new MvmError('CONFIG_INVALID', `${what} ${file} is ${kind}, not a regular file`, {
        hint: `give ${what} as a regular file`,
      });
    }
    if (st.size > maxBytes) throw tooBig(what, file, st.size, maxBytes);
    // Read at most one byte past the limit: a file that grows meanwhile is caught too.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n === buf.length) break;
    }
    if (n > maxBytes) throw tooBig(what, file, undefined, maxBytes);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function tooBig(what: string, file: string, size: number | undefined, max: number): MvmError {
  return new MvmError(
    'CONFIG_INVALID',
    `${what} ${file} is ${size ?? `more than ${max}`} bytes; the limit is ${max} bytes`,
    {
      hint: `${what} this large is a mistake: check the path`,
    },
  );
}

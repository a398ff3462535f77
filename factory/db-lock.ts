// One factory per database. Two factories on one file fight over every instance ("illegal
// transition running -> running") and nothing else stops the second when the API is off. A lock
// file beside the database names the holder (pid and kernel start time, so a recycled pid is not
// mistaken for it); a factory finding a live holder refuses to start, naming its pid. A holder that
// died (kill -9) leaves a stale file, which the next start takes over.
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { MvmError } from '../shared/errors.js';
import { procStartTime, sameProcessAlive } from './executor/proc.js';

interface Holder {
  pid: number;
  startTime?: string;
  host: string;
  since: string;
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

export interface DbLock {
  file: string;
  release(): void;
}

/** Takes `<db>.lock` or throws CONFLICT naming the factory that holds it. */
export function lockDatabase(dbFile: string): DbLock {
  const file = `${dbFile}.lock`;
  const me: Holder = {
    pid: process.pid,
    startTime: procStartTime(process.pid),
    host: hostname(),
    since: new Date().toISOString(),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  // The database's folder holds secrets: made private here too, as opening the database does.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(tmp, JSON.stringify(me) + '\n', { mode: 0o644 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file); // atomic: fails when the file exists
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
      }
      const held = readHolder(file);
      if (held && held.host === me.host && sameProcessAlive(held.pid, held.startTime)) {
        throw new MvmError(
          'CONFLICT',
          `another factory (pid ${held.pid}, since ${held.since}) runs on the database ${dbFile}`,
          {
            hint: `stop it first (kill ${held.pid}, or systemctl stop mvm-factory); two factories on one database would fight over every instance`,
          },
        );
      }
      if (held && held.host !== me.host) {
        throw new MvmError(
          'CONFLICT',
          `the database ${dbFile} is locked by a factory on host ${held.host} (pid ${held.pid})`,
          {
            hint: `stop that factory; if it is gone for good, remove ${file}`,
          },
        );
      }
      // Stale (its factory died) or unreadable: move it aside, then try to take the lock again.
      const aside = `${file}.stale.${process.pid}`;
      try {
        renameSync(file, aside);
        rmSync(aside, { force: true });
      } catch {
        // someone else moved it first: try again
      }
    }
  } finally {
    rmSync(tmp, { force: true });
  }
  return {
    file,
    release: () => {
      const held = readHolder(file);
      if (held?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}

// Another process holding an SQLite database locked — as an operator's `sqlite3 file` session
// with an open `BEGIN EXCLUSIVE`, a backup tool or a VACUUM would. The holder is a separate Node
// process (SQLite locks are per process, so a lock taken in the test's own process would prove
// nothing); it says "locked" once it holds the lock and releases it when told, or when it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

export interface LockHolder {
  pid: number;
  /** Commits (nothing was written) and closes the database; resolves when the process is gone. */
  release(): Promise<void>;
}

const HOLDER = `
const Database = require(process.env.BETTER_SQLITE3);
const db = new Database(process.env.DB_FILE, { timeout: 30000 });
db.exec('BEGIN EXCLUSIVE');
// In WAL mode EXCLUSIVE only keeps writers out; a read makes the holder a reader too.
db.prepare('select count(*) from sqlite_master').get();
process.stdout.write('locked\\n');
process.stdin.on('data', () => { db.exec('COMMIT'); db.close(); process.exit(0); });
process.stdin.on('end', () => process.exit(0));
`;

/**
 * Locks `dbFile` from another process with an open BEGIN EXCLUSIVE. mvm's databases are in WAL
 * mode, where that keeps every writer out and lets readers on. (A `locking_mode = EXCLUSIVE`
 * holder cannot even get its lock while the server has the file open, so it is no test case.)
 */
export async function holdLock(t: { teardown(fn: () => unknown): void }, dbFile: string): Promise<LockHolder> {
  const require = createRequire(import.meta.url);
  const child: ChildProcess = spawn(process.execPath, ['-e', HOLDER], {
    env: { ...process.env, DB_FILE: dbFile, BETTER_SQLITE3: require.resolve('better-sqlite3') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  const stderr: string[] = [];
  child.stderr!.on('data', (d) => stderr.push(String(d)));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  t.teardown(async () => {
    if (!gone()) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const lines = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the lock holder did not lock ${dbFile} within 30 s: ${stderr.join('')}`)),
      30_000,
    );
    lines.once('line', () => {
      clearTimeout(timer);
      resolve();
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the lock holder exited before locking ${dbFile}: ${stderr.join('')}`));
    });
  });
  return {
    pid: child.pid!,
    async release() {
      if (gone()) return;
      child.stdin!.write('release\n');
      await exited;
    },
  };
}

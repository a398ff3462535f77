// How long a command takes to print: spawn → the first byte on its stdout (or its exit, for a
// command that prints nothing, such as `node -e 0`, the floor every Node.js command pays).
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export function firstByteMs(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let at: number | undefined;
    let stderr = '';
    child.stdout.once('data', () => (at ??= performance.now()));
    child.stdout.resume();
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${[command, ...args].join(' ')} exited with ${code}: ${stderr.trim()}`));
      resolve((at ?? performance.now()) - t0);
    });
  });
}

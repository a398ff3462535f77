// A real Mosquitto broker for tests: its own config on a free loopback port, anonymous access,
// persistence in a temp folder (so a restart keeps retained messages and persistent sessions),
// stopped by its PID at teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from './sshd.js';
import { tempDir } from './tmp.js';

export const MOSQUITTO_BIN = process.env.MVM_MOSQUITTO ?? '/usr/sbin/mosquitto';

export interface Mosquitto {
  port: number;
  url: string;
  pid(): number;
  /** Stops the broker (SIGTERM: it saves its persistence file), waiting for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  log: string[];
  /** Its temp folder (config, persistence). */
  dir: string;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(1000, () => done(false));
  });
}

export interface MosquittoOptions {
  /** Lines added to the listener (e.g. certfile/keyfile for TLS) and after it (password_file). */
  listenerLines?: string[];
  /** Default true. */
  anonymous?: boolean;
  /** URL scheme the tests connect with (mqtts for a TLS listener). */
  scheme?: 'mqtt' | 'mqtts';
}

export async function startMosquitto(
  t: { teardown(fn: () => unknown): void },
  opts: MosquittoOptions = {},
): Promise<Mosquitto> {
  const dir = tempDir(t, 'mvm-mosquitto-');
  const port = await freePort();
  const cfg = join(dir, 'mosquitto.conf');
  writeFileSync(
    cfg,
    [
      `listener ${port} 127.0.0.1`,
      ...(opts.listenerLines ?? []),
      `allow_anonymous ${opts.anonymous ?? true}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      // as root Mosquitto would switch to the mosquitto user, which cannot write the temp folder
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'),
  );
  const log: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const start = async () => {
    const c = spawn(MOSQUITTO_BIN, ['-c', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    exited = once(c, 'exit');
    c.stderr!.setEncoding('utf8');
    c.stderr!.on('data', (d: string) => log.push(...d.trimEnd().split('\n')));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null)
        throw new Error(`mosquitto exited (${c.exitCode ?? c.signalCode}):\n${log.join('\n')}`);
      if (await accepting(port)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on ${port}:\n${log.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  t.teardown(stop);
  return { port, url: `${opts.scheme ?? 'mqtt'}://127.0.0.1:${port}`, pid: () => child!.pid!, stop, start, log, dir };
}

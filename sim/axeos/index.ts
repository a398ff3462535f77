// Starting an AxeOS simulator in-process (tests, benches, `mvm sim axeos`, `mvm sim lab`).
import type { AddressInfo } from 'node:net';
import { parseListen } from '../common/address.js';
import { parseFaults, type FaultMap } from '../common/faults.js';
import { findBoard } from './boards.js';
import { AxeosDevice } from './device.js';
import { createAxeosServer } from './http.js';

export interface AxeosSimOptions {
  /** HOST:PORT; default 127.0.0.1:0 (a free port). */
  listen?: string;
  /** Board id: 102, 201–205, 302–303, 400–403, 600–602, 701–702, 800, nerdqaxe++. Default 601. */
  board?: string;
  /** Firmware version running from the factory partition. Default v2.15.0 (NerdQAxe: v1.0.30). */
  firmware?: string;
  faults?: string[] | FaultMap;
  now?: () => number;
  rebootDelayMs?: number;
  bootMs?: number;
  seed?: string;
  /** NerdQAxe++: OTA needs this one-time password (header X-OTP-Code), else 401 "OTP/Session required". */
  otp?: string;
}

export interface AxeosSim {
  url: string;
  host: string;
  port: number;
  device: AxeosDevice;
  close(): Promise<void>;
}

export async function startAxeosSim(opts: AxeosSimOptions = {}): Promise<AxeosSim> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:0', 80);
  const board = findBoard(opts.board ?? '601');
  const device = new AxeosDevice({
    board,
    firmware: opts.firmware ?? (board.family === 'nerdqaxe' ? 'v1.0.30' : 'v2.15.0'),
    faults: opts.faults instanceof Map ? opts.faults : parseFaults(opts.faults ?? []),
    now: opts.now,
    rebootDelayMs: opts.rebootDelayMs,
    bootMs: opts.bootMs,
    seed: opts.seed ?? `${board.id}@${host}:${port}`,
    otp: opts.otp,
  });
  const server = createAxeosServer(device, opts.now);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${host}:${addr.port}`,
    host,
    port: addr.port,
    device,
    close: () =>
      new Promise<void>((resolve) => {
        device.close();
        server.close(() => resolve());
      }),
  };
}

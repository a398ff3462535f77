// The cgminer API over TCP as an Avalon serves it: one request per connection, answered from the
// first chunk received, the reply terminated by a NUL byte, then the socket closes. A device that is
// rebooting, or a dropped connection, closes without a reply.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseListen } from '../common/address.js';
import { DropCounter, parseFaults, type FaultMap } from '../common/faults.js';
import { invalidJson, parseRequest, runCommand, type Reply } from './api.js';
import { CgminerDevice, type CgminerDeviceOptions } from './device.js';
import { formatJoined, formatJson, formatPlain } from './format.js';
import { MODELS } from './models.js';

/** The device's options (device.ts), and where and how it serves them. */
export interface CgminerSimOptions extends Omit<CgminerDeviceOptions, 'model' | 'faults'> {
  listen?: string;
  model?: 'nano3' | 'nano3s';
  quirks?: boolean;
  faults?: string[] | FaultMap;
}

export interface CgminerSim {
  /** HOST:PORT, as the testbed description's cgminer address. */
  address: string;
  host: string;
  port: number;
  device: CgminerDevice;
  quirks: boolean;
  close(): Promise<void>;
}

/** The reply text (without the NUL) for what a client sent; null to close without one. */
export function answer(dev: CgminerDevice, text: string, quirks: boolean): string | null {
  const req = parseRequest(text);
  if ('invalid' in req) return formatJson(invalidJson(dev));
  const single = req.command.includes('+') ? undefined : runCommand(dev, req.command, req.parameter);
  if (single?.silent) return null;
  if (!req.json) return formatPlain(single ?? runCommand(dev, req.command, req.parameter));
  const commands = req.command.split('+').filter(Boolean);
  if (commands.length > 1) {
    const replies = commands.map((c) => [c, runCommand(dev, c, req.parameter)] as [string, Reply]);
    return formatJoined(replies, { quirks });
  }
  return formatJson(single ?? runCommand(dev, req.command, req.parameter), {
    quirks,
    command: req.command.toLowerCase(),
  });
}

function serve(dev: CgminerDevice, quirks: boolean, drops: DropCounter, socket: Socket): void {
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  if (dev.power !== 'up') return void socket.destroy();
  const dropRatio = dev.faults.get('drop');
  if (dropRatio !== undefined && drops.shouldDrop(dropRatio)) return void socket.destroy();
  let buf = '';
  let answered = false;
  socket.on('data', (chunk) => {
    buf += chunk.toString('utf8');
    if (answered) return;
    answered = true;
    // cgminer reads the request with a single recv(); let one tick coalesce a split write.
    setImmediate(() => {
      const reply = () => {
        if (dev.power !== 'up' || socket.destroyed) return void socket.destroy();
        const text = answer(dev, buf, quirks);
        if (text === null) return void socket.destroy();
        socket.end(text + '\0');
      };
      const slow = dev.faults.get('slow');
      if (slow) setTimeout(reply, slow);
      else reply();
    });
  });
}

export async function startCgminerSim(opts: CgminerSimOptions = {}): Promise<CgminerSim> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:0', 4028);
  const model = MODELS[opts.model ?? 'nano3s'];
  const device = new CgminerDevice({
    model,
    firmware: opts.firmware,
    faults: opts.faults instanceof Map ? opts.faults : parseFaults(opts.faults ?? []),
    now: opts.now,
    rebootDelayMs: opts.rebootDelayMs,
    bootMs: opts.bootMs,
    seed: opts.seed ?? `${model.id}@${host}:${port}`,
    webUser: opts.webUser,
    webPass: opts.webPass,
    noSoftoff: opts.noSoftoff,
    softonSilent: opts.softonSilent,
  });
  const quirks = opts.quirks ?? false;
  const drops = new DropCounter();
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    serve(device, quirks, drops, s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    address: `${host}:${actual}`,
    host,
    port: actual,
    device,
    quirks,
    close: () =>
      new Promise<void>((resolve) => {
        device.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// NMMiner over UDP: telemetry datagrams to the telemetry address every interval, config pushes
// taken on the config port (repeated by the sender, never acknowledged), the config reported on the
// report address at start, after a change, and every sixth telemetry interval. Loopback only.
import { createSocket, type Socket } from 'node:dgram';
import { parseDestination, parseListen } from '../common/address.js';
import { DropCounter, parseFaults, type FaultMap } from '../common/faults.js';
import { NmminerDevice, type KeyCase } from './device.js';

export interface NmminerSimOptions {
  /** HOST[:PORT]: the device's IP and its config port (default 12347; 0 picks a free one). */
  listen?: string;
  /**
   * Where telemetry goes (default 127.0.0.1:12345). The firmware broadcasts it; 127.255.255.255:PORT
   * does the same on loopback, so the fleet and a runner listening on the port both get it.
   */
  telemetry?: string;
  /** Where config reports go (default 127.0.0.1:12346; 127.255.255.255:PORT broadcasts them). */
  report?: string;
  intervalMs?: number;
  keyCase?: KeyCase;
  faults?: string[] | FaultMap;
  now?: () => number;
  /** How long the device is silent after applying a config (it restarts). */
  bootMs?: number;
  boardType?: string;
  /** Keep fields a config push leaves out instead of blanking them. */
  lenientPush?: boolean;
}

export interface NmminerSim {
  /** HOST:PORT of the config port. */
  address: string;
  host: string;
  configPort: number;
  device: NmminerDevice;
  /** Sends a telemetry datagram now (tests, benches). */
  sendTelemetry(): void;
  sendReport(): void;
  /** Datagrams sent and dropped by the drop fault. */
  stats: { sent: number; dropped: number };
  close(): Promise<void>;
}

export async function startNmminerSim(opts: NmminerSimOptions = {}): Promise<NmminerSim> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:12347', 12347);
  const telemetry = parseDestination(opts.telemetry ?? '127.0.0.1:12345', 12345);
  const reportTo = parseDestination(opts.report ?? '127.0.0.1:12346', 12346);
  const faults = opts.faults instanceof Map ? opts.faults : parseFaults(opts.faults ?? []);
  const intervalMs = opts.intervalMs ?? 5000;
  const bootMs = opts.bootMs ?? 2000;
  const drops = new DropCounter();
  const timers = new Set<NodeJS.Timeout>();
  let silentUntil = 0;
  let ticks = 0;
  let closed = false;
  const stats = { sent: 0, dropped: 0 };

  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: false });
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) fn();
    }, ms);
    timers.add(timer);
  };
  const send = (payload: Record<string, unknown>, to: { host: string; port: number }) => {
    if (closed || Date.now() < silentUntil) return;
    const ratio = faults.get('drop');
    if (ratio !== undefined && drops.shouldDrop(ratio)) {
      stats.dropped += 1;
      return;
    }
    const data = Buffer.from(JSON.stringify(payload));
    const go = () => {
      if (closed) return;
      stats.sent += 1;
      socket.send(data, to.port, to.host);
    };
    const slow = faults.get('slow');
    if (slow) later(slow, go);
    else go();
  };
  const sendTelemetry = () => !device.offNetwork && send(device.telemetry(), telemetry);
  const sendReport = () => !device.offNetwork && send(device.report(), reportTo);

  // Created once the port is known: the port seeds the telemetry noise, so devices differ.
  let device!: NmminerDevice;
  socket.on('message', (msg) => {
    if (!device) return;
    if (Date.now() < silentUntil) return;
    let body: unknown;
    try {
      body = JSON.parse(msg.toString('utf8'));
    } catch {
      return;
    }
    const r = device.applyPush(body);
    if (!r.changed) return;
    // The firmware saves the config and restarts; it reports the new config once back.
    silentUntil = Date.now() + bootMs;
    device.reboot();
    later(bootMs + 10, sendReport);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  if (telemetry.broadcast || reportTo.broadcast) socket.setBroadcast(true);
  const configPort = socket.address().port;
  device = new NmminerDevice({
    ip: host,
    keyCase: opts.keyCase,
    faults,
    now: opts.now,
    boardType: opts.boardType,
    seed: `${host}:${configPort}`,
    lenientPush: opts.lenientPush,
  });

  const loopMs = faults.get('reboot-loop');
  const tick = () => {
    ticks += 1;
    if (loopMs !== undefined && device.uptime() * 1000 >= loopMs) {
      device.reboot();
      silentUntil = Date.now() + bootMs;
      return;
    }
    sendTelemetry();
    if (ticks % 6 === 0) sendReport();
  };
  // Real devices are not in step: each starts its cycle at its own offset within the interval,
  // so a thousand simulated devices do not burst together.
  const phase = (configPort * 7919) % Math.max(1, Math.min(intervalMs, 1000));
  let interval: NodeJS.Timeout | undefined;
  later(phase, () => {
    sendTelemetry();
    sendReport();
    interval = setInterval(tick, intervalMs);
  });

  return {
    address: `${host}:${configPort}`,
    host,
    configPort,
    device,
    sendTelemetry,
    sendReport,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        if (interval) clearInterval(interval);
        for (const t of timers) clearTimeout(t);
        socket.close(() => resolve());
      }),
  };
}

// AxeOS over HTTP: routes the ESP-Miner web server answers, with the firmware's status codes and
// reply bodies, in front of an AxeosDevice. Faults that concern the network (slow, drop) and the
// device being down (rebooting, dark) are applied here; /__sim/ is answered regardless.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { DropCounter } from '../common/faults.js';
import { delay, parseJson, readBody, sendJson, sendText } from '../common/http-util.js';
import type { AxeosDevice } from './device.js';
import { asicInfo, statistics, systemInfo } from './info.js';
import { applyNerdqaxePatch } from './nerdqaxe.js';
import { applyPatch, parsePool } from './settings.js';
import { handleSideChannel, SIDE_CHANNEL_PREFIX } from './side-channel.js';

export function createAxeosServer(dev: AxeosDevice, now: () => number = Date.now): Server {
  const drops = new DropCounter();
  const sockets = new Set<Socket>();
  // Connections that spoke the miner's API: a reboot forgets them (a client's next request on one
  // is reset), as the firmware's does; the bench side channel's connections are left alone.
  const apiSockets = new Set<Socket>();
  dev.onDown = () => {
    for (const s of apiSockets) s.destroy();
  };
  const server = createServer((req, res) => {
    if (!req.url?.startsWith(SIDE_CHANNEL_PREFIX)) apiSockets.add(req.socket);
    handle(dev, drops, now, req, res).catch((err: Error) => {
      if (!res.headersSent) sendError(res, 500, `Internal Server Error: ${err.message}`);
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      apiSockets.delete(s);
    });
  });
  // ESP-IDF's web server keeps a connection open until the client closes it (or it needs the socket
  // for another client) and sends no Keep-Alive header: no idle timeout here either.
  server.keepAliveTimeout = 0;
  // Closing must not wait for idle keep-alive connections.
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    close(cb);
    for (const s of sockets) s.destroy();
    return server;
  }) as Server['close'];
  return server;
}

/** httpd_resp_send_err: the status, and the message as a text/html body. */
function sendError(res: ServerResponse, status: number, message: string): void {
  sendText(res, status, message, 'text/html');
}

/** What a client sees from a device that is off the network: the connection just goes away. */
function vanish(req: IncomingMessage, res: ServerResponse): void {
  req.socket.destroy();
  res.destroy();
}

async function handle(
  dev: AxeosDevice,
  drops: DropCounter,
  now: () => number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const path = url.pathname;
  if (path.startsWith(SIDE_CHANNEL_PREFIX)) return handleSideChannel(dev, req, res, path);

  if (!dev.reachable()) return vanish(req, res);
  const dropRatio = dev.faults.get('drop');
  if (dropRatio !== undefined && drops.shouldDrop(dropRatio)) return vanish(req, res);
  const uploadKibS = path === '/api/system/OTA' ? dev.faults.get('slow-upload') : undefined;
  const body =
    req.method === 'GET' || req.method === 'HEAD'
      ? Buffer.alloc(0)
      : await readBody(req, 32 * 1024 * 1024, uploadKibS ? uploadKibS * 1024 : undefined);
  const slow = dev.faults.get('slow');
  if (slow) {
    await delay(slow);
    if (!dev.reachable()) return vanish(req, res);
  }
  const f = dev.features;
  const route = `${req.method} ${path}`;

  if (req.method === 'OPTIONS') {
    res.writeHead(200, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type',
      'Content-Length': 0,
    });
    return void res.end();
  }

  switch (route) {
    case 'GET /api/system/info':
      return sendJson(res, 200, systemInfo(dev, now()));
    case 'GET /api/system/asic':
      if (!f.asicEndpoint) break;
      return sendJson(res, 200, asicInfo(dev));
    case 'GET /api/system/statistics': {
      if (!f.statistics) break;
      const cols = url.searchParams
        .get('columns')
        ?.split(',')
        .map((c) => c.trim());
      return sendJson(res, 200, statistics(dev, cols, now()));
    }
    case 'GET /api/system/scoreboard':
      if (!f.poolsApi) break;
      return sendJson(res, 200, []);
    case 'GET /api/system/wifi/scan':
      return sendJson(res, 200, { networks: [{ ssid: dev.settings.ssid, rssi: -55, authmode: 3 }] });
    case 'GET /api/system/logs':
      return sendText(
        res,
        200,
        `I (${dev.uptimeSeconds() * 1000}) simulated: ${dev.board.deviceModel} running ${dev.version}\n`,
      );
    case 'PATCH /api/system': {
      const parsed = parseJson(body);
      if (parsed === undefined) return sendError(res, 400, 'Invalid JSON');
      if (dev.board.family === 'nerdqaxe' && typeof parsed === 'object' && parsed !== null) {
        dev.settle();
        applyNerdqaxePatch(dev, parsed as Record<string, unknown>);
        dev.changed();
        res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Length': 0 });
        return void res.end();
      }
      dev.settle(); // account the work done at the old settings first
      const result = applyPatch(dev.settings, parsed, f);
      if (!result.ok) return sendError(res, 400, 'Wrong API input');
      dev.changed();
      // ESP-Miner ends the response with an empty chunk: 200 and no body.
      res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Length': 0 });
      return void res.end();
    }
    case 'POST /api/system/restart': {
      dev.restart();
      if (f.restartJson) return sendJson(res, 200, { message: 'System will restart shortly.' });
      // httpd_resp_send without a type: ESP-IDF's default, text/html.
      return sendText(res, 200, 'System will restart shortly.', 'text/html');
    }
    case 'POST /api/system/pause':
    case 'POST /api/system/resume': {
      if (!f.pause) break;
      const pause = path.endsWith('/pause');
      dev.setPaused(pause);
      return sendJson(res, 200, { message: pause ? 'Mining paused' : 'Mining resumed' });
    }
    case 'POST /api/system/identify':
      return sendJson(res, 200, { message: 'The device says "Hi!" for 30 seconds.' });
    case 'POST /api/system/OTA': {
      // NerdQAxe++ with OTP on: an update needs the one-time password (header X-OTP-Code).
      if (dev.otp !== undefined && req.headers['x-otp-code'] !== dev.otp)
        return sendError(res, 401, 'OTP/Session required');
      const outcome = dev.ota(body);
      if (outcome.status !== 200) {
        if (dev.board.family === 'nerdqaxe') return sendError(res, outcome.status, 'Flash Error');
        if (f.poolsApi) return sendJson(res, outcome.status, { message: outcome.body });
        return sendError(res, outcome.status, outcome.body);
      }
      return sendText(res, outcome.status, outcome.body);
    }
    case 'POST /api/system/OTAWWW':
      return sendText(res, 200, 'WWW update complete\n');
    case 'POST /api/system/boot': {
      if (!f.poolsApi) break;
      const parsed = parseJson(body) as { partition?: unknown } | undefined;
      if (!parsed || typeof parsed.partition !== 'string') return sendError(res, 400, 'Invalid partition label');
      const r = dev.setBootPartition(parsed.partition);
      if (!r.ok) return sendError(res, 400, r.message);
      return sendJson(res, 200, { message: r.message });
    }
    case 'GET /':
      return sendText(
        res,
        200,
        `<!doctype html><title>AxeOS</title><p>${dev.board.deviceModel} (simulated)</p>`,
        'text/html',
      );
  }

  const poolPut = /^\/api\/system\/pools\/(\d+)$/.exec(path);
  if (poolPut && req.method === 'DELETE' && f.poolsApi) {
    const i = Number(poolPut[1]);
    if (i > 7) return sendError(res, 400, 'Invalid pool index');
    // The firmware refuses to clear the slot selected as primary or fallback.
    if (i === dev.settings.primaryPoolIndex || i === dev.settings.secondaryPoolIndex)
      return sendError(res, 400, 'Pool is in use');
    dev.settings.pools[i] = null;
    dev.changed();
    return sendJson(res, 200, { message: 'Pool deleted successfully' });
  }
  if (poolPut && req.method === 'PUT' && f.poolsApi) {
    const i = Number(poolPut[1]);
    if (i > 7) return sendError(res, 400, 'Invalid pool index');
    const parsed = parseJson(body);
    if (parsed === undefined) return sendError(res, 400, 'Invalid JSON');
    const r = parsePool(parsed, i);
    if (!r.pool) return sendError(res, 400, 'Wrong API input');
    dev.settle();
    dev.settings.pools[i] = r.pool;
    dev.changed();
    res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Length': 0 });
    return void res.end();
  }

  if (f.apiNotFoundJson && path.startsWith('/api/')) return sendJson(res, 404, { error: 'unknown route' });
  // ESP-Miner's 404 handler redirects everything else to the captive portal.
  res.writeHead(302, { Location: '/', 'Content-Type': 'text/html' });
  res.end('Redirect to the captive portal');
}

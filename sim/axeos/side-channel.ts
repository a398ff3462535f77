// The bench side channel under /__sim/ — not part of AxeOS. It stands for what a lab has besides
// the network: the USB-serial line (esptool) and a power switch, plus fault control. It answers
// whatever state the simulated device is in, even dark.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FAULT_NAMES, parseFault, type FaultName } from '../common/faults.js';
import { parseJson, readBody, sendJson } from '../common/http-util.js';
import type { AxeosDevice } from './device.js';

export const SIDE_CHANNEL_PREFIX = '/__sim/';

/** Body of POST /__sim/fault: {"set": ["slow=2000", "overheat"], "clear": ["drop"] | ["*"]}. */
export interface FaultRequest {
  set?: string[];
  clear?: string[];
}

export async function handleSideChannel(
  dev: AxeosDevice,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const route = `${req.method} ${path}`;
  if (route === 'GET /__sim/state') return sendJson(res, 200, dev.snapshot());
  if (route === 'POST /__sim/fault') {
    const body = parseJson(await readBody(req, 64 * 1024)) as FaultRequest | undefined;
    if (!body || typeof body !== 'object')
      return sendJson(res, 400, { error: 'expected JSON {"set": ["name[=value]"], "clear": ["name" | "*"]}' });
    try {
      const sets = (body.set ?? []).map((s) => parseFault(String(s)));
      const clears = (body.clear ?? []).flatMap((c) => (c === '*' ? [...FAULT_NAMES] : [parseFault(String(c))[0]]));
      for (const c of clears) dev.clearFault(c as FaultName);
      for (const [n, v] of sets) dev.setFault(n, v);
    } catch (err) {
      return sendJson(res, 400, { error: (err as Error).message, hint: (err as { hint?: string }).hint });
    }
    return sendJson(res, 200, { faults: Object.fromEntries(dev.faults) });
  }
  if (route === 'POST /__sim/serial-flash') {
    const image = await readBody(req, 32 * 1024 * 1024);
    const result = dev.serialFlash(image);
    if (!result.ok) return sendJson(res, 400, { error: `serial flash refused: ${result.reason}` });
    return sendJson(res, 200, { message: 'serial flash complete, booting factory partition', version: result.version });
  }
  if (route === 'POST /__sim/power-cycle') {
    dev.powerCycle();
    return sendJson(res, 200, { message: 'power cycled' });
  }
  return sendJson(res, 404, {
    error: `no side-channel route ${route}`,
    routes: ['GET /__sim/state', 'POST /__sim/fault', 'POST /__sim/serial-flash', 'POST /__sim/power-cycle'],
  });
}

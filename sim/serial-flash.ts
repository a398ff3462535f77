// Client of a simulated device's serial line (POST /__sim/serial-flash): what a runner recovery
// command runs where a real bench would run esptool.
import { MvmError } from '../shared/errors.js';

export async function serialFlash(
  address: string,
  image: Buffer,
  timeoutMs = 30_000,
): Promise<{ message: string; version: string }> {
  const base = address.replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/__sim/serial-flash`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: image,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new MvmError('NETWORK', `cannot reach the serial line of ${base}: ${(err as Error).message}`, {
      cause: err,
      retryable: true,
      hint: 'is the simulator running at that address?',
    });
  }
  const body = (await res.json().catch(() => ({}))) as { message?: string; version?: string; error?: string };
  if (!res.ok) {
    throw new MvmError('DEVICE', body.error ?? `serial flash failed with HTTP ${res.status}`, {
      hint: 'give a merged factory image or an ESP32 app image (first byte 0xE9)',
    });
  }
  return { message: body.message ?? 'serial flash complete', version: body.version ?? 'unknown' };
}

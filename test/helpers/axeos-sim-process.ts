// `mvm sim axeos` as a real process for tests that run the other parts as processes too: on a free
// loopback port, stopped with the test, with its URL and the two requests tests make of it (the
// device's system info, and the simulator's fault switch).
import { startMvm, type MvmProcess, type StartOptions } from './mvm-process.js';

export interface AxeosSimProcess {
  proc: MvmProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  /** GET /api/system/info, as the device answers it. */
  info(): Promise<Record<string, unknown>>;
  /** POST /__sim/fault with `body` (`{ set: [...] }`, `{ clear: true }`). */
  fault(body: object): Promise<Response>;
}

export interface AxeosSimProcessOptions {
  board?: string;
  /** The firmware it starts on (--firmware). */
  firmware?: string;
  bootMs?: number;
  /** More arguments (--fault …). */
  args?: string[];
  env?: StartOptions['env'];
}

export async function startAxeosSimProcess(
  t: { teardown(fn: () => unknown): void },
  o: AxeosSimProcessOptions = {},
): Promise<AxeosSimProcess> {
  const proc = startMvm(
    [
      'sim',
      'axeos',
      '--listen',
      '127.0.0.1:0',
      '--board',
      o.board ?? '601',
      ...(o.firmware ? ['--firmware', o.firmware] : []),
      ...(o.bootMs !== undefined ? ['--boot-ms', String(o.bootMs)] : []),
      ...(o.args ?? []),
    ],
    o.env ? { env: o.env } : {},
  );
  t.teardown(() => proc.stop());
  const url = /listening on (\S+)/.exec(await proc.waitForLine(/^mvm sim axeos listening on /))![1];
  return {
    proc,
    url,
    info: async () => (await (await fetch(`${url}/api/system/info`)).json()) as Record<string, unknown>,
    fault: (body) =>
      fetch(`${url}/__sim/fault`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
  };
}

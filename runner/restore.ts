// `mvm runner restore`: bring each device of a testbed back to its baseline — firmware, pools,
// settings, one restart when a change needs it — or, for a `command` device, run the testbed's
// restore operation. A device already at its baseline is left untouched.
import { CommandDriver } from './drivers/command/driver.js';
import { describeForDevice } from './drivers/errors.js';
import { createDriver } from './drivers/registry.js';
import type { ControlAction, DeviceSettings, DeviceSpec, Driver, PoolConfig, ProgressEvent } from './drivers/types.js';
import { ensureFirmware } from './firmware/ensure.js';
import { restartAndWait } from './restart.js';
import { baselineFirmware } from './testbed-baseline.js';
import type { Testbed } from './testbed.js';
import type {
  DeviceRestore,
  RestoreAction,
  RestoreActionName,
  RestoreReport,
} from '../shared/contracts/runner-report.js';

// The report's shape is the contract the factory reads (shared/contracts/runner-report.ts).
export type { DeviceRestore, RestoreAction, RestoreActionName, RestoreReport };

export interface RestoreOptions {
  testbed: Testbed;
  /** The devices to restore (default: all of the testbed's). */
  devices?: DeviceSpec[];
  firmwareDir?: string;
  signal?: AbortSignal;
  onProgress?: (device: string, e: ProgressEvent) => void;
  /** How often a restart's wait says how it goes (default 10 s). */
  progressEveryMs?: number;
  /** Injected for tests. */
  driverFor?: (device: DeviceSpec) => Driver;
}

const describePools = (pools: PoolConfig[]) => pools.map((p) => `${p.url} ${p.user}`).join(', ');

export function describeSettings(s: DeviceSettings): string {
  return [
    s.mode && `mode ${s.mode}`,
    s.frequency !== undefined && `${s.frequency} MHz`,
    s.voltage !== undefined && `${s.voltage} mV`,
    s.fan !== undefined && `fan ${s.fan} %`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** The controls that apply baseline settings, in an order where later ones refine earlier ones. */
function settingsActions(s: DeviceSettings): ControlAction[] {
  const actions: ControlAction[] = [];
  if (s.mode !== undefined) actions.push({ op: 'mode', mode: s.mode });
  if (s.frequency !== undefined) actions.push({ op: 'frequency', mhz: s.frequency });
  if (s.voltage !== undefined) actions.push({ op: 'voltage', mv: s.voltage });
  if (s.fan !== undefined) actions.push({ op: 'fan', percent: s.fan });
  return actions;
}

async function restoreDevice(driver: Driver, opts: RestoreOptions): Promise<DeviceRestore> {
  const device = driver.device;
  const signal = opts.signal;
  const actions: RestoreAction[] = [];
  const step = async (
    action: RestoreActionName,
    fn: () => Promise<Omit<RestoreAction, 'action' | 'ok'>>,
  ): Promise<boolean> => {
    try {
      actions.push({ action, ok: true, ...(await fn()) });
      return true;
    } catch (err) {
      actions.push({ action, ok: false, message: describeForDevice(err, device.name) });
      return false;
    }
  };
  const result = (): DeviceRestore => {
    const failed = actions.find((a) => !a.ok);
    return { device: device.name, ok: failed === undefined, actions, ...(failed ? { error: failed.message } : {}) };
  };

  if (driver instanceof CommandDriver) {
    await step('command', async () => {
      if (!driver.defines('restore'))
        return { message: 'nothing to restore: the device defines no options.operations.restore' };
      return { message: await driver.runDefined('restore', { baseline: opts.testbed.baseline }, { signal }) };
    });
    return result();
  }

  const baseline = baselineFirmware(device, opts.testbed);
  if (baseline !== undefined) {
    const ok = await step('firmware', async () => {
      const info = await driver.info({ signal });
      const r = await ensureFirmware({
        driver,
        from: info.firmwareVersion,
        version: baseline,
        firmwareDir: opts.firmwareDir,
        purpose: 'its baseline',
        signal,
        onProgress: (e) => opts.onProgress?.(device.name, e),
      });
      return { message: r.message, from: r.from ?? undefined, to: r.to };
    });
    // Without the right firmware (or an answer) the rest cannot be trusted.
    if (!ok) return result();
  }

  let needsRestart = false;
  const { pools, settings } = device;
  if (pools && !signal?.aborted) {
    await step('pools', async () => {
      const cmp = (await driver.compareBaseline?.({ pools }, { signal }))?.pools;
      if (cmp?.same) return { message: `pools already at baseline (${cmp.current})` };
      const r = await driver.control({ op: 'pools-set', pools }, { signal });
      needsRestart ||= r.needsRestart === true;
      return { message: r.message, from: cmp?.current, to: describePools(pools) };
    });
  }
  if (settings && settingsActions(settings).length > 0 && !signal?.aborted) {
    await step('settings', async () => {
      const cmp = (await driver.compareBaseline?.({ settings }, { signal }))?.settings;
      if (cmp?.same) return { message: `settings already at baseline (${cmp.current})` };
      const messages: string[] = [];
      for (const action of settingsActions(settings)) {
        const r = await driver.control(action, { signal });
        needsRestart ||= r.needsRestart === true;
        messages.push(r.message);
      }
      return { message: messages.join('; '), from: cmp?.current, to: describeSettings(settings) };
    });
  }
  if (needsRestart && !signal?.aborted)
    await step('restart', async () => {
      // The wait for the device to come back is the longest silence of a restore: say how it goes.
      const onProgress = (line: string) => opts.onProgress?.(device.name, { phase: 'reboot', message: line });
      return {
        message: (await restartAndWait(driver, { signal, onProgress, progressEveryMs: opts.progressEveryMs })).message,
      };
    });
  return result();
}

export async function restoreTestbed(opts: RestoreOptions): Promise<RestoreReport> {
  const specs = opts.devices ?? opts.testbed.devices;
  const devices = await Promise.all(
    specs.map(async (spec): Promise<DeviceRestore> => {
      let driver: Driver;
      try {
        driver = (opts.driverFor ?? createDriver)(spec);
      } catch (err) {
        return { device: spec.name, ok: false, actions: [], error: describeForDevice(err, spec.name) };
      }
      try {
        return await restoreDevice(driver, opts);
      } finally {
        await driver.close().catch(() => undefined);
      }
    }),
  );
  return { ok: devices.every((d) => d.ok), testbed: opts.testbed.testbed, devices };
}

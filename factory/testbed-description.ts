// The testbed description the factory hands to each agent (`<agent workdir>/testbed.json`) and to
// the runner for health checks and restores, read through MVM_TESTBED / --testbed. Its shape is a
// contract between components: version 1 (fields are only ever added, as optional).
import type { DeviceSettings, PoolConfig, TestbedConfig } from './config/types.js';

export interface TestbedDescription {
  version: 1;
  testbed: string;
  /** The instance the description was written for (absent for health checks and restores). */
  instance?: string;
  target?: string;
  baseline?: string;
  /** The lab's firmware library on the host the runner runs on. */
  firmware_dir?: string;
  /** The unprivileged user the agent runs the job's tasks as. */
  task_user?: string;
  /** Proves to the runner that it runs for the testbed's lock holder (see shared/testbed-locks.ts). */
  lock_credential?: string;
  /** The lock directory the factory writes (the runner's default may differ: tasks get a clean environment). */
  lock_dir?: string;
  /**
   * When the factory ends the instance (its creation plus instance_deadline), ISO 8601: nothing a
   * job runs (a device test's window or timeout) may last beyond it.
   */
  deadline?: string;
  /** How long the runner waits for another runner working on the testbed (a person's) before refusing. */
  lock_wait_ms?: number;
  devices: Array<{
    name: string;
    driver: string;
    address?: string;
    hardware?: string;
    software?: string;
    attributes: string[];
    options: Record<string, unknown>;
    pools?: PoolConfig[];
    settings?: DeviceSettings;
    expected_hashrate_ghs?: number;
    max_temperature?: number;
  }>;
}

export interface DescribeOptions {
  instance?: { id: string; target: string };
  targetName?: string;
  firmwareDir?: string;
  lockCredential?: string;
  lockDir?: string;
  /** The instance's deadline (epoch ms). */
  deadline?: number;
  lockWaitMs?: number;
}

export function describeTestbed(tb: TestbedConfig, o: DescribeOptions = {}): TestbedDescription {
  return {
    version: 1,
    testbed: tb.name,
    ...(o.instance ? { instance: o.instance.id, target: o.targetName ?? o.instance.target } : {}),
    ...(tb.baseline !== undefined ? { baseline: tb.baseline } : {}),
    ...(o.firmwareDir !== undefined ? { firmware_dir: o.firmwareDir } : {}),
    ...(tb.taskUser !== undefined ? { task_user: tb.taskUser } : {}),
    ...(o.lockCredential !== undefined ? { lock_credential: o.lockCredential } : {}),
    ...(o.lockDir !== undefined ? { lock_dir: o.lockDir } : {}),
    ...(o.deadline !== undefined ? { deadline: new Date(o.deadline).toISOString() } : {}),
    ...(o.lockWaitMs !== undefined ? { lock_wait_ms: o.lockWaitMs } : {}),
    devices: tb.devices.map((d) => ({
      name: d.name,
      driver: d.driver,
      ...(d.address !== undefined ? { address: d.address } : {}),
      ...(d.hardware !== undefined ? { hardware: d.hardware } : {}),
      ...(d.software !== undefined ? { software: d.software } : {}),
      attributes: d.attributes,
      options: d.options,
      ...(d.pools !== undefined ? { pools: d.pools } : {}),
      ...(d.settings !== undefined ? { settings: d.settings } : {}),
      ...(d.expectedHashrateGhs !== undefined ? { expected_hashrate_ghs: d.expectedHashrateGhs } : {}),
      ...(d.maxTemperature !== undefined ? { max_temperature: d.maxTemperature } : {}),
    })),
  };
}

/** Whether restoring the baseline has anything to do: a baseline firmware, pools or settings, or a command device. */
export function hasBaseline(tb: TestbedConfig): boolean {
  return tb.devices.some(
    (d) =>
      d.driver === 'command' ||
      d.software !== undefined ||
      tb.baseline !== undefined ||
      d.pools !== undefined ||
      d.settings !== undefined,
  );
}

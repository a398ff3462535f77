// The testbed description the factory hands to each agent (`<agent workdir>/testbed.json`) and to
// the runner for health checks and restores, read through MVM_TESTBED / --testbed. Its shape is the
// contract in shared/contracts/testbed.ts; what is written here is judged by it.
import { judge } from '../shared/contracts/judge.js';
import { TESTBED_DESCRIPTION } from '../shared/contracts/judged/testbed.js';
import type { TestbedDescription } from '../shared/contracts/testbed.js';
import { ConfigError } from '../shared/errors.js';
import type { TestbedConfig } from './config/types.js';

export type { TestbedDescription };

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
  const description: TestbedDescription = {
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
  // A config that passed validation always makes a valid description; this catches a writer bug
  // here rather than as a runner's refusal on the testbed host (judged as the runner judges it).
  const { problems } = judge(TESTBED_DESCRIPTION, description);
  if (problems.length > 0) throw new ConfigError(problems.map((q) => ({ file: `testbed.json for ${tb.name}`, ...q })));
  return description;
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

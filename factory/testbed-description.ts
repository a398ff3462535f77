// The testbed description the factory hands to each agent (`<agent workdir>/testbed.json`), which
// the runner reads through MVM_TESTBED. Its shape is a contract between components: version 1.
import type { TestbedConfig } from './config/types.js';

export interface TestbedDescription {
  version: 1;
  testbed: string;
  instance: string;
  target: string;
  baseline?: string;
  devices: Array<{
    name: string;
    driver: string;
    address?: string;
    hardware?: string;
    software?: string;
    attributes: string[];
    options: Record<string, unknown>;
  }>;
}

export function describeTestbed(tb: TestbedConfig, instance: { id: string; target: string }, targetName?: string): TestbedDescription {
  return {
    version: 1,
    testbed: tb.name,
    instance: instance.id,
    target: targetName ?? instance.target,
    ...(tb.baseline !== undefined ? { baseline: tb.baseline } : {}),
    devices: tb.devices.map((d) => ({
      name: d.name,
      driver: d.driver,
      ...(d.address !== undefined ? { address: d.address } : {}),
      ...(d.hardware !== undefined ? { hardware: d.hardware } : {}),
      ...(d.software !== undefined ? { software: d.software } : {}),
      attributes: d.attributes,
      options: d.options,
    })),
  };
}

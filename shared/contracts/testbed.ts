// testbed.json: the testbed description the factory writes into an agent's folder (and a
// runner's folder for restores and health checks) and the runner reads (MVM_TESTBED, --testbed).
// Version 1; fields are only ever added, as optional, so unknown keys are allowed.
import { Type, type Static } from '@sinclair/typebox';
import { defineContract } from './validate.js';

const text = (description: string) => Type.String({ description, message: 'must be a string' });

export const PoolSchema = Type.Object({
  url: Type.String({ minLength: 1, description: 'stratum+tcp://HOST:PORT' }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  user: Type.String({ minLength: 1, description: 'the pool user (wallet address and worker name)' }),
  password: Type.Optional(Type.String()),
});

export const SettingsSchema = Type.Object({
  mode: Type.Optional(Type.String({ description: "a mode name the device's driver knows" })),
  frequency: Type.Optional(Type.Integer({ description: 'MHz' })),
  voltage: Type.Optional(Type.Integer({ description: 'core voltage, mV' })),
  fan: Type.Optional(Type.Integer({ description: 'fan duty, percent' })),
});

export const TestbedDeviceSchema = Type.Object({
  name: Type.String({ minLength: 1, message: 'missing' }),
  driver: Type.String({ description: 'axeos, cgminer, nmminer or command' }),
  address: Type.Optional(text('how the driver reaches the device (a URL, HOST:PORT)')),
  hardware: Type.Optional(text('the board, e.g. "Bitaxe Gamma"')),
  software: Type.Optional(text('the baseline firmware version')),
  // Always written by the factory; optional for descriptions written by hand on a bench.
  attributes: Type.Optional(Type.Array(Type.String(), { message: 'must be an array of strings' })),
  options: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { message: 'must be an object' })),
  pools: Type.Optional(Type.Array(PoolSchema, { minItems: 1 })),
  settings: Type.Optional(SettingsSchema),
  expected_hashrate_ghs: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  max_temperature: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 150 })),
});

export const TestbedDescriptionSchema = Type.Object(
  {
    version: Type.Literal(1, { message: 'unsupported version {value}', hint: 'this runner reads version 1' }),
    testbed: Type.String({ minLength: 1, message: 'missing the testbed name' }),
    /** The instance the description was written for (absent for health checks and restores). */
    instance: Type.Optional(text('the instance id (jobs only)')),
    target: Type.Optional(text('the target the job asked for (jobs only)')),
    baseline: Type.Optional(text('the baseline firmware version')),
    /** The lab's firmware library on the host the runner runs on. */
    firmware_dir: Type.Optional(text('the firmware library folder (absolute)')),
    /** The unprivileged user the agent runs the job's tasks as. */
    task_user: Type.Optional(text('the user tasks run as')),
    /** Proves to the runner that it runs for the testbed's lock holder (shared/testbed-locks.ts). */
    lock_credential: Type.Optional(text("the lock holder's credential")),
    /** The lock directory the factory writes (tasks get a clean environment: the runner's default may differ). */
    lock_dir: Type.Optional(text('the lock directory')),
    deadline: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'when the factory ends the instance; nothing a job runs may last beyond it',
      }),
    ),
    lock_wait_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'how long the runner waits for another runner working on the testbed before refusing',
      }),
    ),
    devices: Type.Array(TestbedDeviceSchema, { message: 'missing the devices array' }),
  },
  { message: 'the testbed description must be a JSON object' },
);

export type TestbedDescription = Static<typeof TestbedDescriptionSchema>;
export type TestbedDevice = Static<typeof TestbedDeviceSchema>;

export const testbedContract = defineContract('the testbed description', TestbedDescriptionSchema);

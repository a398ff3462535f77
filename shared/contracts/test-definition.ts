// A test definition's shape as a JSON Schema (YAML or JSON), published in
// doc/schemas/test-definition.schema.json for editor completion (`npm run gen:schemas`). The
// validator in runner/device-tests/spec.ts stays the judge (located, every problem at once, cross-key rules);
// test/contracts/schemas.test.ts keeps the keys of both the same.
import { Type, type TSchema } from '@sinclair/typebox';
import { Closed, Duration, Strings, Text } from './formats.js';

const DeviceRef = Type.Union([Type.String(), Type.Integer({ minimum: 0 })], {
  description: 'a spec device, by name or index',
});

/** The keys every check has, beside its own. */
const common = {
  name: Text('the name in the results'),
  device: Type.Union([DeviceRef, Type.Array(DeviceRef)], { description: 'the devices it applies to (default: all)' }),
  devices: Type.Array(DeviceRef, { description: 'the devices it applies to (default: all)' }),
};

const check = (type: string, properties: Record<string, TSchema>, description: string) =>
  Closed({ type: Type.Literal(type), ...common, ...properties }, description, ['type']);

const window = Duration('the sampling window', { default: '1m' });

export const CHECK_SCHEMAS = {
  hashrate: check(
    'hashrate',
    {
      min_percent: Type.Number({ minimum: 0, maximum: 1000, description: '% of the expected hashrate' }),
      window,
      expected_ghs: Type.Number({
        minimum: 0,
        maximum: 1e9,
        description: 'expected GH/s (default: what the testbed says)',
      }),
    },
    'the median hashrate over the window reaches a share of the expected',
  ),
  temperature: check(
    'temperature',
    {
      max: Type.Number({ minimum: -50, maximum: 200, description: '°C' }),
      window,
      sensor: Text('a sensor name (chip, vr, …)'),
    },
    'no reading over the window exceeds max',
  ),
  shares_increase: check(
    'shares_increase',
    { min: Type.Number({ minimum: 0, maximum: 1e12, default: 1 }), window },
    'accepted shares grow by at least min over the window',
  ),
  rejected_ratio: check(
    'rejected_ratio',
    { max: Type.Number({ minimum: 0, maximum: 1 }), window },
    'rejected shares stay below a ratio over the window',
  ),
  survives_restart: check(
    'survives_restart',
    { timeout: Duration('how long it may take to come back', { default: '3m' }), require_hashing: Type.Boolean() },
    'the device comes back after a restart',
  ),
};

export const TestDefinitionSchema = Closed(
  {
    name: Text('the test name (default: the file name)'),
    script: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1 })], {
      description: 'a script file run by its interpreter, or an argv',
    }),
    timeout: Duration('bound on the script', { default: '30m' }),
    env: Type.Record(
      Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
      Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
      {
        description: "the script's extra environment",
      },
    ),
    devices: Type.Array(
      Closed(
        {
          name: Text('the name checks and the script use', { pattern: '^[A-Za-z0-9_-]+$' }),
          hardware: Type.Union([Type.String(), Type.Number()], { description: 'the model it must be' }),
          software: Type.Union([Type.String(), Type.Number()], { description: 'the firmware it must run' }),
          image: Text('a firmware image carrying software (relative to the definition)'),
          attributes: Strings('attributes the testbed device must have'),
        },
        'a device the test needs',
      ),
      { minItems: 1 },
    ),
    checks: Type.Array(Type.Union(Object.values(CHECK_SCHEMAS)), { description: 'declarative checks' }),
    poll: Duration('telemetry sampling interval for window checks', { default: '5s' }),
  },
  'A test definition for `mvm runner test`: doc/test-definitions.md.',
  ['devices'],
  { $id: 'https://mvm.invalid/schemas/test-definition.schema.json', title: 'mvm test definition (YAML or JSON)' },
);

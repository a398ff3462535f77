// A test definition's shape (YAML or JSON): the judge of every key's shape when the runner reads a
// definition (runner/device-tests/spec.ts, through shared/contracts/judge.ts), and published in
// doc/schemas/test-definition.schema.json for editor completion (`npm run gen:schemas`). The rules
// between keys (device names unique, checks naming spec devices, images on disk, the job's
// deadline) run after it, in spec.ts.
import { Type, type TSchema } from '@sinclair/typebox';
import { Closed, Duration, Strings, Text } from './formats.js';
import { judged } from './judge.js';

const DeviceRef = Type.Union([Type.String(), Type.Integer({ minimum: 0 })], {
  description: 'a spec device, by name or index',
});

/** The keys every check has, beside its own. */
const common = {
  name: Text('the name in the results'),
  device: Type.Union([DeviceRef, Type.Array(DeviceRef)], { description: 'the devices it applies to (default: all)' }),
  devices: Type.Array(DeviceRef, { description: 'the devices it applies to (default: all)' }),
};

const check = (type: string, properties: Record<string, TSchema>, description: string, required: string[] = []) =>
  Closed({ type: Type.Literal(type), ...common, ...properties }, description, ['type', ...required]);

/** Durations of a test have no fixed bound: the job's deadline is theirs (a rule in spec.ts). */
const duration = (description: string, fallback: string, min = 0) =>
  Duration(description, { default: fallback }, { min });

const window = duration('the sampling window', '1m');

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
    ['min_percent'],
  ),
  temperature: check(
    'temperature',
    {
      max: Type.Number({ minimum: -50, maximum: 200, description: '°C' }),
      window,
      sensor: Text('a sensor name (chip, vr, …)'),
    },
    'no reading over the window exceeds max',
    ['max'],
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
    ['max'],
  ),
  survives_restart: check(
    'survives_restart',
    { timeout: duration('how long it may take to come back', '3m', 1), require_hashing: Type.Boolean() },
    'the device comes back after a restart',
  ),
};

export const SpecDeviceSchema = Closed(
  {
    name: judged(Text('the name checks and the script use', { pattern: '^[A-Za-z0-9_-]+$' }), {
      message: 'must be letters, digits, "_" or "-"',
    }),
    hardware: Type.Union([Type.String(), Type.Number()], { description: 'the model it must be' }),
    software: Type.Union([Type.String(), Type.Number()], { description: 'the firmware it must run' }),
    image: judged(Text('a firmware image carrying software (relative to the definition)', { minLength: 1 }), {
      message: 'must be a file path (relative to the test definition)',
    }),
    attributes: Strings('attributes the testbed device must have'),
  },
  'a device the test needs',
);

export const TestDefinitionSchema = judged(
  Closed(
    {
      name: Text('the test name (default: the file name)'),
      script: judged(
        Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1 })], {
          description: 'a script file run by its interpreter, or an argv',
        }),
        {
          message: 'must be a file path or a non-empty argv array of strings',
          hint: 'e.g. "basic.py" or ["python3", "basic.py", "--quick"]',
        },
      ),
      timeout: duration('bound on the script', '30m', 1),
      env: judged(
        Type.Record(
          Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
          Type.Union([Type.String(), Type.Number(), Type.Boolean()]),
          { description: "the script's extra environment", additionalProperties: false },
        ),
        { keyMessage: 'not a valid environment variable name' },
      ),
      devices: judged(Type.Array(SpecDeviceSchema, { minItems: 1 }), {
        hint: 'give at least one device: [{hardware, software, attributes}]',
      }),
      checks: Type.Array(judged(Type.Union(Object.values(CHECK_SCHEMAS)), { what: 'check' }), {
        description: 'declarative checks',
      }),
      poll: duration('telemetry sampling interval for window checks', '5s', 100),
    },
    'A test definition for `mvm runner test`: doc/test-definitions.md.',
    ['devices'],
    { $id: 'https://mvm.invalid/schemas/test-definition.schema.json', title: 'mvm test definition (YAML or JSON)' },
  ),
  { message: 'a test definition is an object with script, devices and checks' },
);

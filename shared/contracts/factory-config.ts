// The factory config's shape (TOML read as JSON): the judge of every key's shape when the factory
// reads its config (factory/config/, through shared/contracts/judge.ts), and published in
// doc/schemas/factory-config.schema.json for editor completion (`npm run gen:schemas`). The
// cross-key rules (targets named, addresses unique, token files, task users) run after it, in
// factory/config/. Descriptions are short: doc/configuration.md says the rest.
import { Type } from '@sinclair/typebox';
import { Closed, Duration, MAX_DURATION_MS, OneOf, Strings, Text, Word } from './formats.js';
import { judged } from './judge.js';

const Path = (description: string) => Word(`${description} (a path; ~ is expanded)`);
const AtLeast = (min: number, description: string, extra: Record<string, unknown>) =>
  Duration(description, extra, { min, max: MAX_DURATION_MS });

export const GeneralSchema = judged(
  Closed(
    {
      baseurl: Word('the job server, http(s)://host:port', { format: 'uri' }),
      admin_token: Word('a job-server admin token (turns target names into ids)'),
      admin_token_file: Path('the same token, read from a file'),
    },
    'the job server',
    ['baseurl'],
  ),
  { hint: 'add [general] with baseurl = "http://host:port" of the job server' },
);

export const FactorySchema = Closed(
  {
    token: Word("the factory's token on the job server"),
    token_file: Path('the same token, read from a file'),
    poll_interval: AtLeast(10, 'the longest wait between two passes', { default: '7s' }),
    lease_wait: Duration('how long a lease call may be held while nothing is queued', { default: '5s' }),
    drain_timeout: Duration('after SIGTERM: how long live instances may finish', { default: '5m' }),
    agent_start_timeout: AtLeast(100, 'how long starting an agent may take', { default: '30s' }),
    agent_online_timeout: AtLeast(100, 'how long an agent may take to come online', { default: '5m' }),
    agent_start_attempts: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 2,
      description: 'instances a job may get whose agent failed to start or come online',
    }),
    instance_deadline: AtLeast(1000, 'no instance lives longer', { default: '6h' }),
    stop_grace: Duration('SIGTERM, then SIGKILL after this long', { default: '10s' }),
    workdir: Path('root of the per-instance folders (local testbeds)'),
    keep_job_files: Type.Boolean({ default: false, description: "keep an ended instance's jobs/ folder" }),
    agent_command: Strings('the agent program for local testbeds', { minItems: 1 }),
    runner_command: Strings('the runner for health checks and restores on local testbeds', { minItems: 1 }),
    firmware_dir: Path("the lab's firmware library"),
    quarantine_unhealthy: Type.Boolean({
      default: true,
      description: 'keep testbeds of unknown health out of allocation',
    }),
    task_user: Word('the unprivileged user job tasks run as'),
  },
  'the factory daemon',
);

export const HealthSchema = Closed(
  {
    enabled: Type.Boolean({ default: true, description: 'health checks and restores through the runner' }),
    interval: Duration('a good testbed is checked again after this long ("0": only when something happened)', {
      default: '6h',
    }),
    retry: AtLeast(100, 'wait after a failed check (doubles per failure)', { default: '1m' }),
    bad_after: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description: 'failed checks in a row before bad',
    }),
    timeout: AtLeast(1000, 'bound on one whole check', { default: '5m' }),
    window: Duration('how long the check samples telemetry', { default: '15s' }),
    samples: Type.Integer({ minimum: 1, maximum: 1000, default: 3, description: 'telemetry readings over the window' }),
    hashrate_tolerance: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.2,
      description: 'share below expected allowed',
    }),
    max_temperature: Type.Number({ minimum: 0, maximum: 150, default: 80, description: 'highest temperature, °C' }),
    restore: Type.Boolean({ default: true, description: 'restore the baseline after every job' }),
    restore_timeout: AtLeast(1000, 'bound on one restore', { default: '15m' }),
    concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'checks and restores at once' }),
  },
  'testbed health checks and baseline restores',
);

export const ApiSchema = Closed(
  {
    listen: Text('"HOST:PORT" or "off"', { default: '127.0.0.1:9310' }),
    admin_token: Word("the API's admin token"),
    admin_token_file: Path('the same, read from a file'),
    default_ttl: AtLeast(1000, 'the length of a reservation that asks for none', { default: '2h' }),
    max_ttl: AtLeast(1000, 'the longest reservation', { default: '7d' }),
    metrics: judged(
      Type.Union([Type.Literal('open'), Type.Literal('token')], {
        default: 'open',
        description: 'whether GET /metrics needs a token',
      }),
      { hint: "open: /metrics needs no token; token: any API user's token" },
    ),
  },
  "the factory's HTTP API (reservations)",
);

export const TargetSchema = Closed(
  {
    id: Text("the target's id (a ULID), so no lookup is needed"),
    description: Text('for people'),
  },
  'a target: a kind of testbed jobs ask for',
);

export const AgentSchema = judged(
  Type.Union(
    [
      // No mode is the local agent.
      Closed({ mode: Type.Literal('local') }, 'the agent runs on the factory host'),
      Closed(
        {
          mode: Type.Literal('ssh'),
          host: Word('the testbed host'),
          port: Type.Integer({ minimum: 1, maximum: 65535, default: 22 }),
          user: Text('the SSH user'),
          identity_file: Path('an unencrypted private key'),
          known_hosts: Path('the known_hosts file the host key must be in'),
          host_key: judged(
            Word('the pinned host key fingerprint, instead of known_hosts', {
              pattern: '^SHA256:[A-Za-z0-9+/]{43}=?$',
            }),
            {
              message: '{value} is not a SHA256 host key fingerprint',
              hint: 'copy it from `ssh-keygen -l -E sha256 -f /etc/ssh/ssh_host_ed25519_key.pub` run on the host: host_key = "SHA256:…"',
            },
          ),
          remote_workdir: Text('the instance folders on the host (absolute)'),
          remote_command: Strings('the mvm on the host', { minItems: 1 }),
          lock_dir: judged(
            Word("the testbeds' lock directory on the host (absolute; default /tmp/mvm-testbed-locks)", {
              pattern: '^/',
            }),
            {
              message: '{value} is not an absolute path',
              hint: 'give the lock directory on the host as an absolute path, e.g. lock_dir = "/tmp/mvm-testbed-locks"',
            },
          ),
        },
        'the agent runs on a testbed host over SSH',
        ['mode', 'host'],
      ),
    ],
    { description: "where the testbed's agents, checks and restores run" },
  ),
  { what: 'agent mode', hint: 'use "local" (agent on this machine) or "ssh" (agent on the testbed host)' },
);

/** stratum+tcp://host:port (or stratum+ssl, stratum2+tcp, stratum). */
const STRATUM_URL = '^stratum(\\+tcp|\\+ssl|2\\+tcp)?://[^\\s/:]+(:\\d{1,5})?/?$';

export const PoolSchema = Closed(
  {
    url: judged(Word('stratum+tcp://host:port (or stratum+ssl, stratum2+tcp, stratum)', { pattern: STRATUM_URL }), {
      message: '{value} is not a stratum URL',
      hint: 'write url = "stratum+tcp://host:port"',
    }),
    user: Word('the pool user (wallet address and worker name)'),
    password: Text('the pool password'),
  },
  'a baseline pool',
  ['url', 'user'],
);

export const SettingsSchema = Closed(
  {
    mode: Text('a mode the driver knows: eco, standard, turbo, oc (AxeOS); low, med, high (Avalon)'),
    frequency: Type.Integer({ minimum: 1, maximum: 2000, description: 'MHz' }),
    voltage: Type.Integer({ minimum: 100, maximum: 2000, description: 'core voltage, mV' }),
    fan: Type.Integer({ minimum: 0, maximum: 100, description: 'fan duty, %' }),
  },
  'baseline settings',
);

export const DeviceSchema = Closed(
  {
    driver: OneOf(['axeos', 'cgminer', 'nmminer', 'command'], 'how the runner talks to it', 'driver'),
    hardware: Text('the model ("601", "nano3s", an SP type…)'),
    software: Text('the baseline firmware'),
    address: Word('axeos: http://host:port; cgminer: host:port; nmminer: host[:port]'),
    attributes: Strings('free-form tags a test definition may require', { default: [] }),
    options: Type.Record(Type.String(), Type.Unknown(), { description: 'driver settings, handed to the runner' }),
    pools: Type.Array(PoolSchema, { minItems: 1, description: 'baseline pools, restored after each job' }),
    settings: SettingsSchema,
    expected_hashrate_ghs: Type.Number({
      minimum: 0.001,
      maximum: 1e9,
      description: 'what health checks expect, GH/s',
    }),
    max_temperature: Type.Number({ minimum: 1, maximum: 150, description: 'highest temperature a check accepts, °C' }),
    sim: Type.Record(Type.String(), Type.Unknown(), { description: 'read by `mvm sim lab` only' }),
  },
  'a device of the testbed',
  ['driver'],
);

export const TestbedSchema = Closed(
  {
    targets: Strings('target names or ids this testbed serves', { minItems: 1 }),
    enabled: Type.Boolean({ default: true }),
    baseline: Text('the baseline firmware of devices with no software of their own'),
    description: Text('for people'),
    agent: AgentSchema,
    devices: Type.Record(Type.String(), DeviceSchema, { description: 'the devices, by name' }),
    sp_type: Word('an SP testbed (seed keys): the device hardware'),
    sp_runner_path: Word('an SP testbed: the sp-runner program'),
    sp_runner_config: Path('an SP testbed: the sp-runner config'),
    task_user: Word("the unprivileged user this testbed's tasks run as"),
  },
  'a testbed: a bench of devices and where its agent runs',
  ['targets'],
);

const fleetSection = (what: string) =>
  Type.Record(Type.String(), Type.Unknown(), { description: `${what}: read by \`mvm fleet\` (doc/fleet.md)` });

export const FactoryConfigSchema = Closed(
  {
    general: GeneralSchema,
    factory: FactorySchema,
    health: HealthSchema,
    api: ApiSchema,
    target: Type.Record(Type.String(), TargetSchema, { description: 'targets, by name' }),
    testbed: Type.Record(Type.String(), TestbedSchema, { description: 'testbeds, by name' }),
    fleet: fleetSection('the fleet controller'),
    lab: fleetSection("the fleet's view of this lab"),
    jobs: fleetSection('job history for the fleet'),
    miner: fleetSection('miners in daily use'),
    energy: fleetSection('energy prices and automation'),
    mqtt: fleetSection('the MQTT export'),
  },
  'The `mvm factory` configuration file. Every key: doc/configuration.md.',
  ['general'],
  { $id: 'https://mvm.invalid/schemas/factory-config.schema.json', title: 'mvm factory config (TOML)' },
);

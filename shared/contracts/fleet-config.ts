// The fleet config's shape (TOML read as JSON), published in doc/schemas/fleet-config.schema.json
// for editor completion (`npm run gen:schemas`). The fleet's own readers (fleet/config/load.ts,
// fleet/energy/config.ts, fleet/export/mqtt-config.ts) still judge the file; a test keeps this
// schema's keys equal to theirs and checks that it accepts what they accept in the shipped
// examples. A file can be both a fleet and a factory config: the factory's sections are the
// factory schema's, so one schema completes the whole file. Descriptions are short: doc/fleet.md
// says the rest.
import { Type } from '@sinclair/typebox';
import { FactoryConfigSchema } from './factory-config.js';
import { Closed, Duration, OneOf, Word } from './formats.js';

const Path = (description: string) => Word(`${description} (a path; relative to the config file)`);
const Hhmm = (description: string) => Type.String({ description, pattern: '^([01]\\d|2[0-3]):([0-5]\\d)$' });
const Price = (description: string) => Type.Number({ minimum: -1000, maximum: 1000, description });

/** Miner drivers (fleet/store/miners.ts FLEET_DRIVERS: every driver but `command`). */
export const FLEET_DRIVER_WORDS = ['axeos', 'cgminer', 'nmminer'] as const;
/** A miner's name (fleet/store/miners.ts MINER_ID). */
export const MINER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/** Octopus GSP groups (fleet/energy/config.ts OCTOPUS_REGIONS). */
export const OCTOPUS_REGION_WORDS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P'] as const;

export const FleetRetentionSchema = Closed(
  {
    raw: Duration('raw samples are kept this long', { default: '48h' }),
    minute: Duration('per-minute roll-ups are kept this long (at least raw)', { default: '30d' }),
    hour: Duration('per-hour roll-ups are kept this long (at least minute)', { default: '730d' }),
  },
  'how long the history is kept',
);

export const FleetSectionSchema = Closed(
  {
    poll_interval: Duration('how often each miner is read (a miner may set its own)', { default: '10s' }),
    listen: Word('HOST:PORT of the fleet API (--listen overrides it)', { default: '127.0.0.1:9320' }),
    admin_token_file: Path('the API admin token (made on first start when missing)'),
    udp_port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: 12345,
      description: 'the shared NMMiner telemetry listener (0: a free port)',
    }),
    udp_address: Word('the address it binds (IPv4)', {
      default: '0.0.0.0',
      pattern: '^\\d{1,3}(\\.\\d{1,3}){3}$',
    }),
    offline_after: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 3,
      description: 'missed readings in a row before a miner is offline',
    }),
    concurrency: Type.Integer({ minimum: 1, maximum: 1024, default: 32, description: 'miners read at the same time' }),
    request_timeout: Duration('bound on one reading', { default: '5s' }),
    retention: FleetRetentionSchema,
    metrics: OneOf(['open', 'token'], '/metrics without a token (open) or with any API token (token)'),
  },
  'the fleet controller daemon',
);

const upstream = (what: string, envVar: string) => ({
  url: Word(`${what}, http(s)://host:port`, { format: 'uri' }),
  token: Word(`a token for it (else token_file, else ${envVar})`),
  token_file: Path('the same token, read from a file'),
});

const LabSchema = Closed(
  upstream('a factory API the fleet reserves testbeds through', 'MVM_FLEET_LAB_NAME_TOKEN'),
  'another factory the fleet watches, [lab.NAME]',
  ['url'],
);

/** [lab]: the lab "default" (url, token), and [lab.NAME] tables, one per other factory. */
export const FleetLabsSchema = Type.Object(
  {
    ...Object.fromEntries(
      Object.entries(upstream('the factory API (the lab "default")', 'MVM_FLEET_LAB_TOKEN')).map(([k, v]) => [
        k,
        Type.Optional(v),
      ]),
    ),
  },
  {
    description: 'the factories the fleet watches: [lab] url/token is "default"; [lab.NAME] names others',
    additionalProperties: LabSchema,
  },
);

export const FleetJobsSchema = Closed(
  upstream('the job server the web UI jobs pages read', 'MVM_FLEET_JOBS_TOKEN'),
  'the job server (the web UI jobs pages)',
  ['url'],
);

export const FleetMinerSchema = Closed(
  {
    driver: OneOf(FLEET_DRIVER_WORDS, 'how the fleet talks to it', 'driver'),
    address: Word('axeos: http://host[:port]; cgminer: host:port; nmminer: host[:port]'),
    options: Type.Record(Type.String(), Type.Unknown(), { description: 'driver-specific settings' }),
    model: Word('what it is, as shown'),
    hardware: Word('the board or hardware model'),
    expected_hashrate: Type.Number({ minimum: 0.000001, maximum: 1e9, description: 'GH/s it should make' }),
    expected_hashrate_ghs: Type.Number({ minimum: 0.000001, maximum: 1e9, description: 'the same (GH/s)' }),
    location: Word('where it is'),
    tags: Type.Array(Word('a tag'), { description: 'tags to select it by' }),
    poll_interval: Duration('how often it is read (else [fleet] poll_interval)'),
  },
  'a miner in daily use',
  ['driver', 'address'],
);

export const FleetEnergySchema = Closed(
  {
    source: OneOf(['octopus', 'flat', 'tou'], 'where prices come from', 'price source'),
    flat_price: Price('p/kWh when no source knows the slot'),
    fetch_interval: Duration('how often prices are fetched', { default: '30m' }),
    backfill: Duration('how far back prices are fetched at start', { default: '2d' }),
    octopus: Closed(
      {
        product: Word('the tariff product code, e.g. AGILE-24-10-01'),
        region: OneOf(OCTOPUS_REGION_WORDS, 'the GSP group letter (C is London)', 'region'),
        base_url: Word('the Octopus API', { default: 'https://api.octopus.energy', format: 'uri' }),
        api_key: Word('an Octopus API key (the public tariff endpoints need none)'),
      },
      'Octopus Agile prices',
      ['product', 'region'],
    ),
    time_of_use: Type.Array(
      Closed(
        { from: Hhmm('HH:MM, UK time'), to: Hhmm('HH:MM, UK time'), price: Price('p/kWh') },
        'a time-of-use band',
        ['from', 'to', 'price'],
      ),
      { description: 'time-of-use bands, for source = "tou"' },
    ),
  },
  'energy prices (rules are made through the API: doc/automation.md)',
);

export const FleetMqttSchema = Closed(
  {
    enabled: Type.Boolean({ default: true, description: 'false: the section is kept but the export is off' }),
    url: Word('the broker, e.g. mqtt://127.0.0.1:1883 (mqtts:// for TLS)'),
    username: Word('the broker user'),
    password: Type.String({ description: 'its password (else password_file)' }),
    password_file: Path('the password, read from a file'),
    client_id: Word('the MQTT client id', { default: 'mvm-fleet-PREFIX' }),
    prefix: Word('the topic prefix', { default: 'mvm' }),
    discovery: Type.Boolean({ default: true, description: 'Home Assistant discovery messages' }),
    discovery_prefix: Word("Home Assistant's discovery prefix", { default: 'homeassistant' }),
    qos: Type.Integer({ minimum: 0, maximum: 2, default: 1, description: 'MQTT quality of service' }),
    buffer: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      default: 1000,
      description: 'messages kept while the broker is away',
    }),
    reconnect_min: Duration('first wait before reconnecting', { default: '1s' }),
    reconnect_max: Duration('longest wait before reconnecting', { default: '1m' }),
    tls_ca: Path('a CA certificate (PEM)'),
    tls_cert: Path('a client certificate (PEM; needs tls_key)'),
    tls_key: Path('its key (PEM)'),
    tls_insecure: Type.Boolean({ default: false, description: "don't verify the broker's certificate" }),
  },
  'the MQTT export with Home Assistant discovery (doc/observability.md)',
);

/** The fleet's own sections, by top-level key. */
export const FLEET_SECTIONS = {
  fleet: FleetSectionSchema,
  lab: FleetLabsSchema,
  jobs: FleetJobsSchema,
  miner: Type.Record(Type.String({ pattern: MINER_NAME_PATTERN }), FleetMinerSchema, {
    description: 'miners, by name',
    additionalProperties: false,
  }),
  energy: FleetEnergySchema,
  mqtt: FleetMqttSchema,
};

const factoryProperties = Object.fromEntries(
  Object.entries(FactoryConfigSchema.properties).filter(([k]) => !(k in FLEET_SECTIONS)),
);

export const FleetConfigSchema = Type.Object(
  {
    ...Object.fromEntries(Object.entries(FLEET_SECTIONS).map(([k, v]) => [k, Type.Optional(v)])),
    // A factory config's sections, for a file that is both: its testbed devices become miners.
    ...Object.fromEntries(Object.entries(factoryProperties).map(([k, v]) => [k, Type.Optional(v)])),
  },
  {
    description:
      'The `mvm fleet` configuration file (also a factory config, when it has [general]). Every key: doc/fleet.md.',
    additionalProperties: false,
    $id: 'https://mvm.invalid/schemas/fleet-config.schema.json',
    title: 'mvm fleet config (TOML)',
  },
);

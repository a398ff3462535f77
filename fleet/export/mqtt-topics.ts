// What the MQTT exporter publishes, as pure functions: topic names, a miner's state message and
// per-metric values, and the Home Assistant discovery configs (sensors with device classes and
// units, a connectivity binary sensor, a mode select whose commands come back to the fleet).
import type { Telemetry } from '../../runner/drivers/types.js';
import { MODES } from '../../runner/drivers/types.js';
import type { MinerStatus, MinerView } from '../types.js';

/** A miner id as one topic level and a Home Assistant object id: letters, digits, _ and - only. */
export function topicId(minerId: string): string {
  return minerId.replace(/[^A-Za-z0-9_-]/g, '_');
}

export interface Topics {
  /** The exporter's availability (Last Will: "offline"). */
  status: string;
  /** All fleet events, as JSON, not retained. */
  events: string;
  miner(id: string): string;
  state(id: string): string;
  availability(id: string): string;
  metric(id: string, metric: string): string;
  minerEvents(id: string): string;
  modeCommand(id: string): string;
  /** Subscription matching every miner's mode command topic. */
  modeCommandFilter: string;
  /** Home Assistant's birth topic. */
  haStatus: string;
  discovery(component: string, id: string, object: string): string;
}

export function topics(prefix: string, discoveryPrefix: string): Topics {
  const miner = (id: string) => `${prefix}/miner/${topicId(id)}`;
  return {
    status: `${prefix}/status`,
    events: `${prefix}/events`,
    miner,
    state: (id) => `${miner(id)}/state`,
    availability: (id) => `${miner(id)}/availability`,
    metric: (id, metric) => `${miner(id)}/${metric}`,
    minerEvents: (id) => `${miner(id)}/events`,
    modeCommand: (id) => `${miner(id)}/mode/set`,
    modeCommandFilter: `${prefix}/miner/+/mode/set`,
    haStatus: `${discoveryPrefix}/status`,
    discovery: (component, id, object) => `${discoveryPrefix}/${component}/${nodeId(prefix, id)}/${object}/config`,
  };
}

function nodeId(prefix: string, id: string): string {
  return `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_${topicId(id)}`;
}

/** The retained JSON state of one miner (units as Home Assistant shows them). */
export interface MinerState {
  id: string;
  status: MinerStatus;
  online: boolean;
  at: string | null;
  model: string | null;
  mode: string | null;
  hashrate_ghs: number | null;
  expected_hashrate_ghs: number | null;
  power_w: number | null;
  efficiency_jth: number | null;
  temperatures: Record<string, number>;
  /** highest over the miner's fans */
  fan_rpm: number | null;
  fan_percent: number | null;
  shares_accepted: number | null;
  shares_rejected: number | null;
  uptime_s: number | null;
  firmware: string | null;
  paused: boolean | null;
}

const highest = (xs: Array<number | null>): number | null => {
  const v = xs.filter((x): x is number => typeof x === 'number');
  return v.length ? Math.max(...v) : null;
};

export function minerState(m: MinerView, t: Telemetry | null, status: MinerStatus, mode: string | null): MinerState {
  return {
    id: m.id,
    status,
    online: status === 'online',
    at: t?.at ?? null,
    model: m.model ?? m.hardware ?? null,
    mode,
    hashrate_ghs: t?.hashrateGhs ?? null,
    expected_hashrate_ghs: m.expectedHashrateGhs ?? t?.expectedHashrateGhs ?? null,
    power_w: t?.powerW ?? null,
    efficiency_jth: t?.efficiencyJth ?? null,
    temperatures: t?.temperatures ?? {},
    fan_rpm: highest((t?.fans ?? []).map((f) => f.rpm)),
    fan_percent: highest((t?.fans ?? []).map((f) => f.percent)),
    shares_accepted: t?.sharesAccepted ?? null,
    shares_rejected: t?.sharesRejected ?? null,
    uptime_s: t?.uptimeS ?? null,
    firmware: t?.firmwareVersion ?? null,
    paused: t?.paused ?? null,
  };
}

/** The per-metric topics' values (plain numbers as text), by topic suffix. */
export function metricValues(s: MinerState): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: number | boolean | string | null) => {
    if (v !== null) out[k] = String(v);
  };
  put('hashrate_ghs', s.hashrate_ghs);
  put('expected_hashrate_ghs', s.expected_hashrate_ghs);
  put('power_w', s.power_w);
  put('efficiency_jth', s.efficiency_jth);
  put('fan_rpm', s.fan_rpm);
  put('fan_percent', s.fan_percent);
  put('shares_accepted', s.shares_accepted);
  put('shares_rejected', s.shares_rejected);
  put('mode', s.mode);
  for (const [sensor, c] of Object.entries(s.temperatures)) put(`temperature/${topicId(sensor)}`, c);
  return out;
}

export interface DiscoveryMessage {
  topic: string;
  config: Record<string, unknown>;
}

interface SensorSpec {
  object: string;
  name: string;
  template: string;
  unit?: string;
  deviceClass?: string;
  stateClass?: 'measurement' | 'total_increasing';
  icon?: string;
}

/** Home Assistant discovery configs for one miner (temperature sensors as the miner reports them). */
/** The modes a miner offers by default (the runner's names); the fleet passes its own per driver. */
export function defaultModes(_m: MinerView): string[] {
  return [...MODES];
}

export function discoveryMessages(
  tp: Topics,
  prefix: string,
  m: MinerView,
  state: MinerState,
  swVersion: string,
  modes: string[] = defaultModes(m),
): DiscoveryMessage[] {
  const id = topicId(m.id);
  const uid = `${nodeId(prefix, m.id)}`;
  const device = {
    identifiers: [uid],
    name: m.id,
    manufacturer: m.driver === 'cgminer' ? 'Canaan' : m.driver === 'nmminer' ? 'NMMiner' : 'Bitaxe',
    model: m.model ?? m.hardware ?? m.driver,
    ...(state.firmware ? { sw_version: state.firmware } : {}),
  };
  const availability = {
    availability: [{ topic: tp.status }, { topic: tp.availability(m.id) }],
    availability_mode: 'all',
  };
  const origin = { name: 'mvm', sw_version: swVersion };
  const sensors: SensorSpec[] = [
    {
      object: 'hashrate',
      name: 'Hashrate',
      template: '{{ value_json.hashrate_ghs }}',
      unit: 'GH/s',
      stateClass: 'measurement',
      icon: 'mdi:pickaxe',
    },
    {
      object: 'expected_hashrate',
      name: 'Expected hashrate',
      template: '{{ value_json.expected_hashrate_ghs }}',
      unit: 'GH/s',
      stateClass: 'measurement',
      icon: 'mdi:pickaxe',
    },
    {
      object: 'power',
      name: 'Power',
      template: '{{ value_json.power_w }}',
      unit: 'W',
      deviceClass: 'power',
      stateClass: 'measurement',
    },
    {
      object: 'efficiency',
      name: 'Efficiency',
      template: '{{ value_json.efficiency_jth }}',
      unit: 'J/TH',
      stateClass: 'measurement',
      icon: 'mdi:lightning-bolt',
    },
    {
      object: 'fan_speed',
      name: 'Fan speed',
      template: '{{ value_json.fan_rpm }}',
      unit: 'rpm',
      stateClass: 'measurement',
      icon: 'mdi:fan',
    },
    {
      object: 'shares_accepted',
      name: 'Shares accepted',
      template: '{{ value_json.shares_accepted }}',
      stateClass: 'total_increasing',
      icon: 'mdi:check',
    },
    {
      object: 'shares_rejected',
      name: 'Shares rejected',
      template: '{{ value_json.shares_rejected }}',
      stateClass: 'total_increasing',
      icon: 'mdi:close',
    },
    ...Object.keys(state.temperatures).map((sensor) => ({
      object: `temperature_${topicId(sensor)}`,
      name: `Temperature ${sensor}`,
      template: `{{ value_json.temperatures[${JSON.stringify(sensor)}] }}`,
      unit: '°C',
      deviceClass: 'temperature',
      stateClass: 'measurement' as const,
    })),
  ];
  const out: DiscoveryMessage[] = sensors.map((s) => ({
    topic: tp.discovery('sensor', m.id, s.object),
    config: {
      name: s.name,
      unique_id: `${uid}_${s.object}`,
      object_id: `${id}_${s.object}`,
      state_topic: tp.state(m.id),
      value_template: s.template,
      ...(s.unit ? { unit_of_measurement: s.unit } : {}),
      ...(s.deviceClass ? { device_class: s.deviceClass } : {}),
      ...(s.stateClass ? { state_class: s.stateClass } : {}),
      ...(s.icon ? { icon: s.icon } : {}),
      ...availability,
      device,
      origin,
    },
  }));
  out.push({
    topic: tp.discovery('binary_sensor', m.id, 'online'),
    config: {
      name: 'Online',
      unique_id: `${uid}_online`,
      object_id: `${id}_online`,
      state_topic: tp.state(m.id),
      value_template: "{{ 'ON' if value_json.online else 'OFF' }}",
      device_class: 'connectivity',
      // Reports offline miners as off: only the exporter's own status decides availability.
      availability_topic: tp.status,
      device,
      origin,
    },
  });
  // A device without modes (an NMMiner) gets no select.
  if (modes.length)
    out.push({
      topic: tp.discovery('select', m.id, 'mode'),
      config: {
        name: 'Mode',
        unique_id: `${uid}_mode`,
        object_id: `${id}_mode`,
        state_topic: tp.state(m.id),
        value_template: '{{ value_json.mode }}',
        command_topic: tp.modeCommand(m.id),
        options: modes,
        icon: 'mdi:speedometer',
        ...availability,
        device,
        origin,
      },
    });
  return out;
}

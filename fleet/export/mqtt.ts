// The MQTT exporter: per miner a retained JSON state topic, per-metric topics and an availability
// topic; the exporter's own availability as its Last Will; fleet events as messages; Home Assistant
// discovery, published on connect, for new miners and whenever Home Assistant announces itself; and
// mode commands from Home Assistant handed to the fleet (`setMode`), which applies its own rules.
// While the broker is away messages wait in a bounded buffer; reconnects back off with jitter.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Telemetry } from '../../runner/drivers/types.js';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { MVM_VERSION } from '../../shared/paths.js';
import { backoffDelay } from '../../shared/retry.js';
import type {
  CollectorHandle,
  DesiredStore,
  EventStore,
  FleetEvent,
  MinerStatus,
  MinerStore,
  MinerView,
} from '../types.js';
import type { MqttConfig } from './mqtt-config.js';
import { OutBuffer, type OutMessage } from './mqtt-buffer.js';
import {
  defaultModes,
  discoveryMessages,
  metricValues,
  minerState,
  topicId,
  topics,
  type MinerState,
} from './mqtt-topics.js';

export interface MqttExporterDeps {
  config: MqttConfig;
  miners: Pick<MinerStore, 'list' | 'get'>;
  /** Each reading is published as it arrives. */
  collector?: Pick<CollectorHandle, 'onReading'>;
  events?: Pick<EventStore, 'subscribe'>;
  /** The mode the fleet keeps each miner in (the select's state). */
  desired?: Pick<DesiredStore, 'get'>;
  /** The modes a miner offers (the select's options; commands outside them are ignored). Default: eco, standard, turbo, oc. */
  modesOf?: (m: MinerView) => string[];
  /** Applies a mode asked for over MQTT through the fleet's normal path (reservations, events). */
  setMode?: (minerId: string, mode: string, actor: string) => Promise<unknown>;
  log: Logger;
}

export interface MqttExporterStats {
  connected: boolean;
  buffered: number;
  dropped: number;
  published: number;
  reconnects: number;
}

export interface MqttExporter {
  /** Publishes a miner's state now (e.g. after an API change of its mode); a miner no longer in the fleet has its retained topics cleared. */
  publishMiner(minerId: string): void;
  stats(): MqttExporterStats;
  /** Marks the exporter offline (retained), flushes and disconnects. */
  close(): Promise<void>;
}

export const MQTT_ACTOR = 'mqtt';

export function startMqttExporter(d: MqttExporterDeps): MqttExporter {
  const cfg = d.config;
  const log = d.log.child({ component: 'mqtt', broker: redactUrl(cfg.url) });
  const tp = topics(cfg.prefix, cfg.discoveryPrefix);
  const buffer = new OutBuffer(cfg.bufferSize);
  /** Temperature sensors announced per miner: a new sensor means a new discovery config. */
  const announced = new Map<string, string>();
  /** Retained topics published per miner, cleared when the miner leaves the fleet. */
  const retained = new Map<string, Set<string>>();
  let published = 0;
  let reconnects = 0;
  let attempt = 0;
  let closing = false;
  let warnedFull = false;

  const options: IClientOptions = {
    clientId: cfg.clientId,
    clean: true,
    reconnectPeriod: cfg.reconnectMinMs,
    connectTimeout: 10_000,
    // A refused login (wrong password, not yet authorised) is retried with the same backoff: the
    // broker's side may be fixed while the fleet runs.
    reconnectOnConnackError: true,
    // mqtt.js would queue without bound while disconnected: the exporter keeps its own bounded buffer.
    queueQoSZero: false,
    will: { topic: tp.status, payload: Buffer.from('offline'), qos: cfg.qos, retain: true },
    ...(cfg.username !== undefined ? { username: cfg.username } : {}),
    ...(cfg.password !== undefined ? { password: cfg.password } : {}),
    ...(cfg.tls
      ? { ca: cfg.tls.ca, cert: cfg.tls.cert, key: cfg.tls.key, rejectUnauthorized: cfg.tls.rejectUnauthorized }
      : {}),
  };
  const client: MqttClient = mqtt.connect(cfg.url, options);

  const send = (m: OutMessage) => {
    client.publish(m.topic, m.payload, { qos: cfg.qos, retain: m.retain }, (err) => {
      if (err && !closing) log.warn({ err: describeError(err), topic: m.topic }, 'publish failed');
    });
    published++;
  };
  const publish = (topic: string, payload: string, retain: boolean, minerId?: string) => {
    if (minerId !== undefined && retain) {
      let set = retained.get(minerId);
      if (!set) retained.set(minerId, (set = new Set()));
      set.add(topic);
    }
    const m = { topic, payload, retain };
    if (client.connected) return send(m);
    if (!buffer.push(m) && !warnedFull) {
      warnedFull = true;
      log.warn({ capacity: buffer.capacity }, 'broker away and the buffer is full: dropping the oldest messages');
    }
  };

  const modeOf = (id: string): string | null => d.desired?.get(id)?.mode ?? null;
  const modesOf = d.modesOf ?? defaultModes;
  const stateOf = (m: MinerView, t?: Telemetry, status?: MinerStatus): MinerState =>
    minerState(m, t ?? m.last, status ?? m.status, modeOf(m.id));

  const announce = (m: MinerView, s: MinerState) => {
    if (!cfg.discovery) return;
    for (const msg of discoveryMessages(tp, cfg.prefix, m, s, MVM_VERSION, modesOf(m)))
      publish(msg.topic, JSON.stringify(msg.config), true, m.id);
    announced.set(m.id, Object.keys(s.temperatures).sort().join('\n'));
  };
  const publishState = (m: MinerView, s: MinerState) => {
    const sensors = Object.keys(s.temperatures).sort().join('\n');
    if (announced.get(m.id) !== sensors && (s.status === 'online' || !announced.has(m.id))) announce(m, s);
    publish(tp.state(m.id), JSON.stringify(s), true, m.id);
    publish(tp.availability(m.id), s.online ? 'online' : 'offline', true, m.id);
    for (const [metric, v] of Object.entries(metricValues(s))) publish(tp.metric(m.id, metric), v, true, m.id);
  };
  /** A miner left the fleet: empty retained messages remove its entities from Home Assistant and its topics from the broker. */
  const forget = (minerId: string) => {
    for (const topic of retained.get(minerId) ?? []) publish(topic, '', true);
    retained.delete(minerId);
    announced.delete(minerId);
  };
  const publishAll = (withDiscovery: boolean) => {
    const present = new Set(d.miners.list().map((m) => m.id));
    for (const id of [...retained.keys()]) if (!present.has(id)) forget(id);
    for (const m of d.miners.list()) {
      const s = stateOf(m);
      if (withDiscovery) announce(m, s);
      publishState(m, s);
    }
  };

  client.on('connect', () => {
    attempt = 0;
    warnedFull = false;
    log.info('connected to the MQTT broker');
    client.subscribe([tp.haStatus, tp.modeCommandFilter], { qos: cfg.qos }, (err) => {
      if (err && !closing)
        log.warn({ err: describeError(err) }, 'cannot subscribe to Home Assistant status and mode commands');
    });
    send({ topic: tp.status, payload: 'online', retain: true });
    for (const m of buffer.drain()) send(m);
    publishAll(true);
  });
  client.on('close', () => {
    if (closing) return;
    attempt++;
    // The next reconnect waits min + a jittered, doubling share of the range (never 0: that would stop reconnecting).
    client.options.reconnectPeriod =
      cfg.reconnectMinMs +
      backoffDelay(attempt, cfg.reconnectMinMs, Math.max(1, cfg.reconnectMaxMs - cfg.reconnectMinMs));
    if (attempt === 1) log.warn('MQTT broker connection lost; buffering and reconnecting');
  });
  client.on('reconnect', () => {
    reconnects++;
  });
  client.on('error', (err) => {
    if (!closing) log.warn({ err: describeError(err) }, 'MQTT client error');
  });
  client.on('message', (topic, payload) => {
    const text = payload.toString('utf8').trim();
    if (topic === tp.haStatus) {
      if (text === 'online') {
        log.info('Home Assistant announced itself: republishing discovery');
        publishAll(true);
      }
      return;
    }
    const match = /\/miner\/([^/]+)\/mode\/set$/.exec(topic);
    if (match) void applyMode(match[1], text);
  });

  const applyMode = async (level: string, mode: string) => {
    const m = d.miners.list().find((x) => topicId(x.id) === level);
    if (!m) return log.warn({ topic: level }, 'mode command for an unknown miner ignored');
    const modes = modesOf(m);
    if (!modes.includes(mode))
      return log.warn(
        { miner: m.id, mode },
        `mode command ignored: ${modes.length ? `not one of ${modes.join(', ')}` : 'this miner has no modes'}`,
      );
    if (!d.setMode) return log.warn({ miner: m.id, mode }, 'mode command ignored: this exporter applies no commands');
    try {
      await d.setMode(m.id, mode, MQTT_ACTOR);
      log.info({ miner: m.id, mode }, 'mode set from MQTT');
    } catch (err) {
      log.warn({ miner: m.id, mode, err: describeError(err) }, 'mode command refused');
    }
    const fresh = d.miners.get(m.id);
    if (fresh) publishState(fresh, stateOf(fresh));
  };

  const unsubscribeReadings =
    d.collector?.onReading((minerId, t, status) => {
      const m = d.miners.get(minerId);
      if (m) publishState(m, stateOf(m, t, status));
    }) ?? (() => {});
  const unsubscribeEvents =
    d.events?.subscribe((e: FleetEvent) => {
      const payload = JSON.stringify(e);
      publish(tp.events, payload, false);
      if (e.minerId) publish(tp.minerEvents(e.minerId), payload, false);
    }) ?? (() => {});

  return {
    publishMiner(minerId) {
      const m = d.miners.get(minerId);
      if (m) publishState(m, stateOf(m));
      else forget(minerId);
    },
    stats: () => ({
      connected: client.connected,
      buffered: buffer.size,
      dropped: buffer.dropped,
      published,
      reconnects,
    }),
    async close() {
      if (closing) return;
      unsubscribeReadings();
      unsubscribeEvents();
      if (client.connected) {
        await new Promise<void>((resolve) =>
          client.publish(tp.status, 'offline', { qos: cfg.qos, retain: true }, () => resolve()),
        );
      }
      closing = true;
      await client.endAsync(!client.connected);
      if (buffer.size) log.warn({ lost: buffer.size }, 'stopped with messages still waiting for the broker');
    },
  };
}

/** The broker URL without credentials, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'REDACTED';
    return u.toString();
  } catch {
    return url;
  }
}

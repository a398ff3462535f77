// The `[mqtt]` config section: the broker, credentials, TLS, topic prefixes, QoS, the buffer kept
// while the broker is away and the reconnect backoff. Every problem is recorded with its key.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../../shared/errors.js';
import { join, Problems, type Table } from '../../factory/config/problems.js';

export interface MqttTls {
  /** PEM contents (read from the files the config names). */
  ca?: string;
  cert?: string;
  key?: string;
  /** false only with `tls_insecure = true` (self-signed test brokers). */
  rejectUnauthorized: boolean;
}

export interface MqttConfig {
  enabled: boolean;
  /** mqtt://host:1883, mqtts://host:8883, ws://…, wss://… */
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  tls?: MqttTls;
  /** Topic prefix of mvm's own topics (default "mvm"). */
  prefix: string;
  /** Publish Home Assistant discovery configs. */
  discovery: boolean;
  /** Home Assistant's discovery prefix (default "homeassistant"); it announces itself on PREFIX/status. */
  discoveryPrefix: string;
  qos: 0 | 1 | 2;
  /** Messages kept while the broker is away; the oldest go first when full. */
  bufferSize: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export const MQTT_KEYS = [
  'enabled',
  'url',
  'username',
  'password',
  'password_file',
  'client_id',
  'prefix',
  'discovery',
  'discovery_prefix',
  'qos',
  'buffer',
  'reconnect_min',
  'reconnect_max',
  'tls_ca',
  'tls_cert',
  'tls_key',
  'tls_insecure',
] as const;

export const MQTT_DEFAULTS = {
  prefix: 'mvm',
  discoveryPrefix: 'homeassistant',
  qos: 1 as const,
  bufferSize: 1000,
  reconnectMinMs: 1000,
  reconnectMaxMs: 60_000,
};

/** A topic level: no wildcards, no separators, no empty string. */
const TOPIC_LEVEL = /^[^/#+\s]+(\/[^/#+\s]+)*$/;

function readPem(p: Problems, key: string, file: string | undefined, baseDir: string): string | undefined {
  if (file === undefined) return undefined;
  const path = isAbsolute(file) ? file : resolve(baseDir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    p.add(
      join('mqtt', key),
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'give the path of a PEM file the daemon can read (relative paths start at the config file)',
    );
    return undefined;
  }
}

/**
 * Reads `[mqtt]` (absent: export off). Relative file paths start at `baseDir` (the config file's
 * folder). Returns undefined when the section is absent or disabled.
 */
export function readMqttSection(p: Problems, raw: Table | undefined, baseDir = process.cwd()): MqttConfig | undefined {
  if (raw === undefined) return undefined;
  const s = 'mqtt';
  p.unknownKeys(raw, s, MQTT_KEYS);
  const enabled = p.boolean(raw, s, 'enabled') ?? true;
  const url = p.string(raw, s, 'url', { required: enabled, nonEmpty: true });
  if (url !== undefined) {
    let ok = false;
    try {
      ok = ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok)
      p.add(
        join(s, 'url'),
        `is not a broker URL: ${JSON.stringify(url)}`,
        'write e.g. url = "mqtt://127.0.0.1:1883" (mqtts:// for TLS)',
      );
  }
  const username = p.string(raw, s, 'username', { nonEmpty: true });
  let password = p.string(raw, s, 'password');
  const passwordFile = p.string(raw, s, 'password_file', { nonEmpty: true });
  if (password !== undefined && passwordFile !== undefined)
    p.add(
      join(s, 'password'),
      'is given twice (password and password_file)',
      'keep one; password_file keeps the secret out of the config',
    );
  else if (passwordFile !== undefined) {
    const path = isAbsolute(passwordFile) ? passwordFile : resolve(baseDir, passwordFile);
    try {
      password = readFileSync(path, 'utf8').trim();
    } catch (err) {
      p.add(
        join(s, 'password_file'),
        `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  if (password !== undefined && username === undefined)
    p.add(join(s, 'password'), 'is set without a username', 'add username = "…"');
  const prefix = p.string(raw, s, 'prefix', { nonEmpty: true }) ?? MQTT_DEFAULTS.prefix;
  if (!TOPIC_LEVEL.test(prefix))
    p.add(
      join(s, 'prefix'),
      `is not a topic prefix: ${JSON.stringify(prefix)}`,
      'use letters, digits, - and _, levels separated by /, no + or # and no leading or trailing /',
    );
  const discoveryPrefix = p.string(raw, s, 'discovery_prefix', { nonEmpty: true }) ?? MQTT_DEFAULTS.discoveryPrefix;
  if (!TOPIC_LEVEL.test(discoveryPrefix))
    p.add(
      join(s, 'discovery_prefix'),
      `is not a topic prefix: ${JSON.stringify(discoveryPrefix)}`,
      'Home Assistant uses "homeassistant" unless changed there',
    );
  const qos = (p.integer(raw, s, 'qos', 0, 2) ?? MQTT_DEFAULTS.qos) as 0 | 1 | 2;
  const bufferSize = p.integer(raw, s, 'buffer', 0, 1_000_000) ?? MQTT_DEFAULTS.bufferSize;
  const reconnectMinMs = p.duration(raw, s, 'reconnect_min', MQTT_DEFAULTS.reconnectMinMs, { min: 10 });
  const reconnectMaxMs = p.duration(raw, s, 'reconnect_max', MQTT_DEFAULTS.reconnectMaxMs, { min: 10 });
  if (reconnectMaxMs < reconnectMinMs)
    p.add(join(s, 'reconnect_max'), `(${reconnectMaxMs} ms) is shorter than reconnect_min (${reconnectMinMs} ms)`);
  const insecure = p.boolean(raw, s, 'tls_insecure') ?? false;
  const ca = readPem(p, 'tls_ca', p.string(raw, s, 'tls_ca', { nonEmpty: true }), baseDir);
  const cert = readPem(p, 'tls_cert', p.string(raw, s, 'tls_cert', { nonEmpty: true }), baseDir);
  const key = readPem(p, 'tls_key', p.string(raw, s, 'tls_key', { nonEmpty: true }), baseDir);
  if (raw.tls_cert !== undefined && raw.tls_key === undefined)
    p.add(join(s, 'tls_key'), 'missing: tls_cert needs its key', 'add tls_key = "client.key"');
  if (raw.tls_key !== undefined && raw.tls_cert === undefined)
    p.add(join(s, 'tls_cert'), 'missing: tls_key needs its certificate', 'add tls_cert = "client.crt"');
  const tlsWanted = ca !== undefined || cert !== undefined || insecure;
  const clientId = p.string(raw, s, 'client_id', { nonEmpty: true }) ?? `mvm-fleet-${prefix.replace(/\W+/g, '-')}`;
  if (!enabled) return undefined;
  return {
    enabled,
    url: url ?? '',
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    clientId,
    ...(tlsWanted
      ? {
          tls: {
            ...(ca ? { ca } : {}),
            ...(cert ? { cert } : {}),
            ...(key ? { key } : {}),
            rejectUnauthorized: !insecure,
          },
        }
      : {}),
    prefix,
    discovery: p.boolean(raw, s, 'discovery') ?? true,
    discoveryPrefix,
    qos,
    bufferSize,
    reconnectMinMs,
    reconnectMaxMs,
  };
}

/** Reads a standalone `[mqtt]` table, throwing ConfigError with every problem (for tools and tests). */
export function parseMqttSection(raw: Table | undefined, file = '(mqtt)', baseDir?: string): MqttConfig | undefined {
  const p = new Problems(file);
  const cfg = readMqttSection(p, raw, baseDir);
  if (p.list.length) throw new ConfigError(p.list);
  return cfg;
}

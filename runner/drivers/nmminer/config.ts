// The NMMiner config push: the device's full parameter set, Wi-Fi included. A push with fields left
// out blanks them on the device (a blank SSID takes it off the network), so a push is built from
// the device's own config report with only the pool fields changed — or refused when a field it
// must carry is unknown. Pure: the driver supplies the report it received.
import { splitPoolUrl } from '../pools.js';
import type { PoolConfig } from '../types.js';
import { field } from './parse.js';

/** The parameters a push carries, in the case the firmware writes them. */
export const CONFIG_FIELDS = [
  'WiFiSSID',
  'WiFiPWD',
  'PrimaryPool',
  'PrimaryPassword',
  'PrimaryAddress',
  'SecondaryPool',
  'SecondaryPassword',
  'SecondaryAddress',
  'Timezone',
  'UIRefresh',
  'ScreenTimeout',
  'Brightness',
  'SaveUptime',
  'LedEnable',
  'RotateScreen',
  'BTCPrice',
  'AutoBrightness',
] as const;

/** Fields the device never reports (passwords): the push takes them from the device options. */
const SECRET_OPTIONS: Record<string, string> = {
  WiFiPWD: 'wifi_password',
  PrimaryPassword: 'primary_password',
  SecondaryPassword: 'secondary_password',
};

export type PushPlan = { ok: true; payload: Record<string, unknown> } | { ok: false; message: string; hint: string };

/** The push for `pools`, from the device's report and its options; `target` is the IP field. */
export function planPush(
  report: Record<string, unknown>,
  pools: PoolConfig[],
  options: Record<string, unknown>,
  target: string,
): PushPlan {
  const payload: Record<string, unknown> = { IP: target };
  for (const key of CONFIG_FIELDS) {
    const v = field(report, key);
    if (v !== undefined) payload[key] = v;
  }
  const names = ['Primary', 'Secondary'] as const;
  pools.forEach((pool, i) => {
    const { scheme, host, port } = splitPoolUrl(pool);
    payload[`${names[i]}Pool`] = `${scheme}://${host}:${port}`;
    payload[`${names[i]}Password`] = pool.password ?? 'x';
    payload[`${names[i]}Address`] = pool.user;
  });
  if (typeof options.wifi_ssid === 'string') payload.WiFiSSID = options.wifi_ssid;
  for (const [key, option] of Object.entries(SECRET_OPTIONS)) {
    if (payload[key] === undefined && typeof options[option] === 'string') payload[key] = options[option];
  }
  // A pool password the device keeps but never reports: its pool is unchanged, and "x" is what
  // almost every pool takes; the Wi-Fi password has no such default.
  if (payload.SecondaryPassword === undefined && payload.SecondaryPool !== undefined) payload.SecondaryPassword = 'x';
  if (payload.PrimaryPassword === undefined) payload.PrimaryPassword = 'x';
  const missing = CONFIG_FIELDS.filter((k) => payload[k] === undefined);
  if (missing.length > 0) {
    return {
      ok: false,
      message: `pools set: refusing to push a config without ${missing.join(', ')}: NMMiner blanks what a push leaves out${missing.includes('WiFiSSID') || missing.includes('WiFiPWD') ? ', and without its Wi-Fi settings it drops off the network' : ''}`,
      hint: missing.every((k) => k in SECRET_OPTIONS || k === 'WiFiSSID')
        ? `set the device option(s) ${missing.map((k) => (k === 'WiFiSSID' ? 'wifi_ssid' : SECRET_OPTIONS[k])).join(', ')} (the device does not report them)`
        : "the device's config report lacks these fields; set the pool on the device itself",
    };
  }
  return { ok: true, payload };
}

/** The subnet broadcast the real tool sends to (a.b.c.255); loopback and names are left as they are. */
export function broadcastFor(host: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m || m[1] === '127') return host;
  return `${m[1]}.${m[2]}.${m[3]}.255`;
}

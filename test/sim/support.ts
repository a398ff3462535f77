// Shared by the simulator tests: the AxeOS spec's schemas (ajv), a controllable clock, HTTP helpers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from '../../shared/paths.js';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

export const FIXTURES = projectPath('test', 'fixtures', 'devices');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

type Schema = Record<string, unknown>;
const spec = parse(fixture('esp-miner-openapi.yaml')) as { components: { schemas: Record<string, Schema> } };

/** The spec's schema `name`, optionally adjusted (older firmware generations), compiled with ajv. */
export function specValidator(name: string, adjust?: (schemas: Record<string, Schema>) => void): ValidateFunction {
  const schemas = structuredClone(spec.components.schemas);
  adjust?.(schemas);
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'esp-miner', components: { schemas } });
  return ajv.compile({ $ref: `esp-miner#/components/schemas/${name}` });
}

/** A clock tests move by hand (telemetry is a function of it). */
export function manualClock(start = 1_790_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

export async function getJson(url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

export async function request(url: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const res = await fetch(url, {
    ...rest,
    redirect: 'manual',
    headers: json !== undefined ? { 'Content-Type': 'application/json' } : rest.headers,
    body: json !== undefined ? JSON.stringify(json) : rest.body,
    signal: rest.signal ?? AbortSignal.timeout(10_000),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), headers: res.headers };
}

/** True when the connection fails (the device is down, dark or dropped us). */
export async function unreachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(3000) });
    return false;
  } catch {
    return true;
  }
}

/** One cgminer API exchange: connect, write, collect until the server closes. */
export function cgminerExchange(
  port: number,
  request: string,
  timeoutMs = 10_000,
): Promise<{ raw: string; closedByServer: boolean }> {
  return import('node:net').then(
    ({ connect }) =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(request));
        let raw = '';
        let ended = false;
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`no reply to ${request} within ${timeoutMs} ms`));
        }, timeoutMs);
        socket.on('data', (d) => (raw += d.toString('utf8')));
        socket.on('end', () => (ended = true));
        socket.on('error', () => {});
        socket.on('close', () => {
          clearTimeout(timer);
          resolve({ raw, closedByServer: ended });
        });
      }),
  );
}

/** The repairs a driver has to make to an Avalon's JSON (what the quirks mode produces). */
export function repairAvalonJson(text: string): unknown {
  const s = text
    .replace(/\0+$/, '')
    .replace(/:\s*-?inf\b/g, ':null')
    .replace(/:\s*nan\b/g, ':null')
    .replace(/\[\s*,/g, '[')
    .replace(/}\s*{/g, '},{');
  return JSON.parse(s.startsWith('{') && s.includes('},{"STATUS"') ? `[${s}]` : s);
}

/** Key[value] pairs of an Avalon status string. */
export function keyValues(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/(\w+)\[([^\]]*)\]/g)) out[m[1]!] = m[2]!;
  return out;
}
